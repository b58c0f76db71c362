// Per (service, endpoint, region, minute) counters of valid events, in flat typed arrays: one
// Float64Array per event-time minute, one slot of FIELDS numbers per (route, region).
import type { Fleet } from './fleet.ts';

/** One (service, endpoint, region, minute) cell: what `request_stats_1m` must hold. */
export interface TruthStats {
  service: string;
  endpoint: string;
  region: string;
  /** Start of the event-time minute, epoch ms UTC. */
  minute_start_ms: number;
  requests: number;
  status_4xx: number;
  status_5xx: number;
  latency_sum_ms: number;
  latency_count: number;
  latency_min_ms: number;
  latency_max_ms: number;
  bytes_out: number;
}

const FIELDS = 8; // requests, 4xx, 5xx, latency sum, latency count, min, max, bytes
const MINUTE_MS = 60_000;

export function minuteStart(ts: number): number {
  return ts - (((ts % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
}

export class MinuteStats {
  private readonly routeOf: Int32Array;
  private readonly routes: Array<{ service: string; route: string }> = [];
  private readonly regionCount: number;
  private readonly cellsPerMinute: number;
  private readonly minutes = new Map<number, Float64Array>();

  constructor(private readonly fleet: Fleet) {
    // Two endpoints may share a route (GET and PUT /api/x/{id}): the truth, like the pipeline, keys on the route.
    const routeIndex = new Map<string, number>();
    this.routeOf = new Int32Array(fleet.endpoints.length);
    for (const endpoint of fleet.endpoints) {
      const service = fleet.services[endpoint.service]?.name ?? '';
      const key = `${service}\u0000${endpoint.route}`;
      let index = routeIndex.get(key);
      if (index === undefined) {
        index = this.routes.length;
        routeIndex.set(key, index);
        this.routes.push({ service, route: endpoint.route });
      }
      this.routeOf[endpoint.index] = index;
    }
    this.regionCount = fleet.regions.length;
    this.cellsPerMinute = this.routes.length * this.regionCount;
  }

  add(
    endpoint: number,
    region: number,
    ts: number,
    status: number,
    latencyMs: number,
    bytesOut: number,
  ): void {
    const minute = minuteStart(ts);
    let cells = this.minutes.get(minute);
    if (cells === undefined) {
      cells = new Float64Array(this.cellsPerMinute * FIELDS);
      for (let i = 0; i < this.cellsPerMinute; i++) cells[i * FIELDS + 5] = Infinity;
      this.minutes.set(minute, cells);
    }
    const at = ((this.routeOf[endpoint] ?? 0) * this.regionCount + region) * FIELDS;
    cells[at] = (cells[at] ?? 0) + 1;
    if (status >= 400 && status < 500) cells[at + 1] = (cells[at + 1] ?? 0) + 1;
    if (status >= 500) cells[at + 2] = (cells[at + 2] ?? 0) + 1;
    cells[at + 3] = (cells[at + 3] ?? 0) + latencyMs;
    cells[at + 4] = (cells[at + 4] ?? 0) + 1;
    cells[at + 5] = Math.min(cells[at + 5] ?? Infinity, latencyMs);
    cells[at + 6] = Math.max(cells[at + 6] ?? 0, latencyMs);
    cells[at + 7] = (cells[at + 7] ?? 0) + bytesOut;
  }

  /** Every non-empty cell, sorted by minute, service, endpoint, region. */
  rows(): TruthStats[] {
    const rows: TruthStats[] = [];
    const regions = this.fleet.regions;
    for (const minute of [...this.minutes.keys()].sort((a, b) => a - b)) {
      const cells = this.minutes.get(minute) ?? new Float64Array(0);
      const inMinute: TruthStats[] = [];
      for (let cell = 0; cell < this.cellsPerMinute; cell++) {
        const at = cell * FIELDS;
        if ((cells[at] ?? 0) === 0) continue;
        const route = this.routes[Math.floor(cell / this.regionCount)];
        inMinute.push({
          service: route?.service ?? '',
          endpoint: route?.route ?? '',
          region: regions[cell % this.regionCount] ?? '',
          minute_start_ms: minute,
          requests: cells[at] ?? 0,
          status_4xx: cells[at + 1] ?? 0,
          status_5xx: cells[at + 2] ?? 0,
          latency_sum_ms: cells[at + 3] ?? 0,
          latency_count: cells[at + 4] ?? 0,
          latency_min_ms: cells[at + 5] ?? 0,
          latency_max_ms: cells[at + 6] ?? 0,
          bytes_out: cells[at + 7] ?? 0,
        });
      }
      inMinute.sort(
        (a, b) =>
          compare(a.service, b.service) || compare(a.endpoint, b.endpoint) || compare(a.region, b.region),
      );
      rows.push(...inMinute);
    }
    return rows;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
