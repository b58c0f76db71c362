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
  /** 100-199, and any status outside 100-599 (none reach requests.valid: ingest refuses them). */
  status_1xx: number;
  status_2xx: number;
  status_3xx: number;
  status_4xx: number;
  status_5xx: number;
  latency_sum_ms: number;
  latency_count: number;
  latency_min_ms: number;
  latency_max_ms: number;
  bytes_out: number;
}

/** Numbers per cell, at these offsets: requests, one count per status class (1xx-5xx), latency, bytes. */
const FIELDS = 11;
const REQUESTS = 0;
/** Counts of 1xx at STATUS, 2xx at STATUS + 1, … 5xx at STATUS + 4. */
const STATUS = 1;
const LATENCY_SUM = 6;
const LATENCY_COUNT = 7;
const LATENCY_MIN = 8;
const LATENCY_MAX = 9;
const BYTES = 10;
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
      for (let i = 0; i < this.cellsPerMinute; i++) cells[i * FIELDS + LATENCY_MIN] = Infinity;
      this.minutes.set(minute, cells);
    }
    const at = ((this.routeOf[endpoint] ?? 0) * this.regionCount + region) * FIELDS;
    const statusAt = at + STATUS + statusClass(status);
    cells[at + REQUESTS] = (cells[at + REQUESTS] ?? 0) + 1;
    cells[statusAt] = (cells[statusAt] ?? 0) + 1;
    cells[at + LATENCY_SUM] = (cells[at + LATENCY_SUM] ?? 0) + latencyMs;
    cells[at + LATENCY_COUNT] = (cells[at + LATENCY_COUNT] ?? 0) + 1;
    cells[at + LATENCY_MIN] = Math.min(cells[at + LATENCY_MIN] ?? Infinity, latencyMs);
    cells[at + LATENCY_MAX] = Math.max(cells[at + LATENCY_MAX] ?? 0, latencyMs);
    cells[at + BYTES] = (cells[at + BYTES] ?? 0) + bytesOut;
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
        if ((cells[at + REQUESTS] ?? 0) === 0) continue;
        const route = this.routes[Math.floor(cell / this.regionCount)];
        inMinute.push({
          service: route?.service ?? '',
          endpoint: route?.route ?? '',
          region: regions[cell % this.regionCount] ?? '',
          minute_start_ms: minute,
          requests: cells[at + REQUESTS] ?? 0,
          status_1xx: cells[at + STATUS] ?? 0,
          status_2xx: cells[at + STATUS + 1] ?? 0,
          status_3xx: cells[at + STATUS + 2] ?? 0,
          status_4xx: cells[at + STATUS + 3] ?? 0,
          status_5xx: cells[at + STATUS + 4] ?? 0,
          latency_sum_ms: cells[at + LATENCY_SUM] ?? 0,
          latency_count: cells[at + LATENCY_COUNT] ?? 0,
          latency_min_ms: cells[at + LATENCY_MIN] ?? 0,
          latency_max_ms: cells[at + LATENCY_MAX] ?? 0,
          bytes_out: cells[at + BYTES] ?? 0,
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

/** 0 for 1xx (and any status outside 100-599, as StatsMinute counts it), 1 for 2xx … 4 for 5xx. */
export function statusClass(status: number): number {
  return status >= 200 && status < 600 ? Math.floor(status / 100) - 1 : 0;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
