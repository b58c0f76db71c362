// Ground truth: what the pipeline must end up with, counted from the deliveries the broker
// acknowledged, with the generator's own (normalised) values and none of the pipeline's code.
import { BAD_CLASSES, EXPECTED_REASON } from './bad-events.ts';
import type { BadClass } from './bad-events.ts';
import type { Fleet } from './fleet.ts';
import type { Delivery, Incident, ValidEvent } from './generator.ts';

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

export interface DeliveryCounts {
  /** Every record: valid + bad + duplicates. */
  deliveries: number;
  /** Valid events, first deliveries. */
  valid: number;
  bad: number;
  /** Second deliveries of valid events. */
  duplicates: number;
}

export interface TruthIncident {
  service: string;
  from_ms: number;
  to_ms: number;
  kind: 'error_rate' | 'latency';
  error_rate: number;
  latency_x: number;
}

export interface Truth {
  version: 1;
  run_id: string;
  topic: string;
  partitions: number;
  started_at: string;
  finished_at: string;
  /** Everything needed to regenerate the run's deliveries byte for byte (see `generatorOptionsFromTruth`). */
  generator: Record<string, unknown>;
  /** Event time of the first and after the last planned event, epoch ms. */
  event_time: { from_ms: number; to_ms: number };
  produced: DeliveryCounts;
  acknowledged: DeliveryCounts;
  failed: DeliveryCounts;
  /** Distinct valid events acknowledged at least once: the records requests.valid must hold. */
  valid_events: number;
  /** Dead letters ingest must write, by reason (every reason listed, zeros included). */
  dead_letters: Record<string, number>;
  /** Deliveries ingest must count as duplicates: acknowledged copies of a valid event beyond its first. */
  duplicates: number;
  /** Valid events injected 2-10 minutes behind the stream, by the minute of their own ts. */
  late: { count: number; per_minute: Array<{ minute_start_ms: number; count: number }> };
  /** Valid events injected 1-5 s behind the stream (still within any sane allowed lateness). */
  out_of_order: number;
  incidents: TruthIncident[];
  /** Totals over `stats_1m`. */
  totals: {
    requests: number;
    status_4xx: number;
    status_5xx: number;
    latency_sum_ms: number;
    latency_count: number;
    bytes_out: number;
  };
  /** Every valid event counted once, late ones included, sorted by minute, service, endpoint, region. */
  stats_1m: TruthStats[];
  /** Event ids (record keys, valid or bad) none of whose deliveries was acknowledged; normally empty, at most 10 000. */
  failed_event_ids: string[];
}

const FIELDS = 8; // requests, 4xx, 5xx, latency sum, latency count, min, max, bytes
const MAX_FAILED_IDS = 10_000;

function zeroCounts(): DeliveryCounts {
  return { deliveries: 0, valid: 0, bad: 0, duplicates: 0 };
}

export class TruthRecorder {
  readonly produced = zeroCounts();
  readonly acknowledged = zeroCounts();
  readonly failed = zeroCounts();
  private readonly routeOf: Int32Array;
  private readonly routes: Array<{ service: string; route: string }> = [];
  private readonly cellsPerMinute: number;
  private readonly minutes = new Map<number, Float64Array>();
  private readonly ackedCopies = new Map<string, number>();
  private readonly failedCopies = new Map<string, number>();
  private readonly deadLetters = new Map<BadClass, number>();
  private readonly lateByMinute = new Map<number, number>();
  private validEvents = 0;
  private duplicates = 0;
  private lateCount = 0;
  private outOfOrder = 0;

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
    this.cellsPerMinute = this.routes.length * fleet.regions.length;
  }

  onProduced(delivery: Delivery): void {
    count(this.produced, delivery);
  }

  onAcknowledged(delivery: Delivery): void {
    count(this.acknowledged, delivery);
    if (delivery.kind === 'bad') {
      this.deadLetters.set(delivery.badClass, (this.deadLetters.get(delivery.badClass) ?? 0) + 1);
      return;
    }
    const event = delivery.event;
    if (event.duplicated) {
      const copies = (this.ackedCopies.get(event.eventId) ?? 0) + 1;
      this.ackedCopies.set(event.eventId, copies);
      if (copies > 1) {
        this.duplicates++;
        return;
      }
    }
    this.countEvent(event);
  }

  onFailed(delivery: Delivery): void {
    count(this.failed, delivery);
    this.failedCopies.set(delivery.key, (this.failedCopies.get(delivery.key) ?? 0) + 1);
  }

  /** The truth so far; `meta` names the run. */
  result(
    meta: Pick<
      Truth,
      'run_id' | 'topic' | 'partitions' | 'started_at' | 'finished_at' | 'generator' | 'event_time'
    >,
    incidents: readonly Incident[],
  ): Truth {
    const stats = this.stats();
    const totals = {
      requests: 0,
      status_4xx: 0,
      status_5xx: 0,
      latency_sum_ms: 0,
      latency_count: 0,
      bytes_out: 0,
    };
    for (const row of stats) {
      totals.requests += row.requests;
      totals.status_4xx += row.status_4xx;
      totals.status_5xx += row.status_5xx;
      totals.latency_sum_ms += row.latency_sum_ms;
      totals.latency_count += row.latency_count;
      totals.bytes_out += row.bytes_out;
    }
    return {
      version: 1,
      ...meta,
      produced: { ...this.produced },
      acknowledged: { ...this.acknowledged },
      failed: { ...this.failed },
      valid_events: this.validEvents,
      dead_letters: Object.fromEntries(
        BAD_CLASSES.map((c) => [EXPECTED_REASON[c], this.deadLetters.get(c) ?? 0]),
      ),
      duplicates: this.duplicates,
      late: {
        count: this.lateCount,
        per_minute: [...this.lateByMinute]
          .sort(([a], [b]) => a - b)
          .map(([minute_start_ms, n]) => ({ minute_start_ms, count: n })),
      },
      out_of_order: this.outOfOrder,
      incidents: incidents.flatMap((incident) => this.describeIncident(incident)),
      totals,
      stats_1m: stats,
      failed_event_ids: this.failedEventIds(),
    };
  }

  private countEvent(event: ValidEvent): void {
    this.validEvents++;
    const minute = event.ts - (event.ts % 60_000);
    if (event.timing === 'late') {
      this.lateCount++;
      this.lateByMinute.set(minute, (this.lateByMinute.get(minute) ?? 0) + 1);
    } else if (event.timing === 'out_of_order') {
      this.outOfOrder++;
    }
    let cells = this.minutes.get(minute);
    if (cells === undefined) {
      cells = new Float64Array(this.cellsPerMinute * FIELDS);
      for (let i = 0; i < this.cellsPerMinute; i++) cells[i * FIELDS + 5] = Infinity;
      this.minutes.set(minute, cells);
    }
    const at = ((this.routeOf[event.endpoint] ?? 0) * this.fleet.regions.length + event.region) * FIELDS;
    cells[at] = (cells[at] ?? 0) + 1;
    if (event.status >= 400 && event.status < 500) cells[at + 1] = (cells[at + 1] ?? 0) + 1;
    if (event.status >= 500) cells[at + 2] = (cells[at + 2] ?? 0) + 1;
    cells[at + 3] = (cells[at + 3] ?? 0) + event.latencyMs;
    cells[at + 4] = (cells[at + 4] ?? 0) + 1;
    cells[at + 5] = Math.min(cells[at + 5] ?? Infinity, event.latencyMs);
    cells[at + 6] = Math.max(cells[at + 6] ?? 0, event.latencyMs);
    cells[at + 7] = (cells[at + 7] ?? 0) + event.bytesOut;
  }

  private stats(): TruthStats[] {
    const rows: TruthStats[] = [];
    const regions = this.fleet.regions;
    for (const minute of [...this.minutes.keys()].sort((a, b) => a - b)) {
      const cells = this.minutes.get(minute) ?? new Float64Array(0);
      const inMinute: TruthStats[] = [];
      for (let cell = 0; cell < this.cellsPerMinute; cell++) {
        const at = cell * FIELDS;
        if ((cells[at] ?? 0) === 0) continue;
        const route = this.routes[Math.floor(cell / regions.length)];
        inMinute.push({
          service: route?.service ?? '',
          endpoint: route?.route ?? '',
          region: regions[cell % regions.length] ?? '',
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

  private describeIncident(incident: Incident): TruthIncident[] {
    const base = {
      service: this.fleet.services[incident.service]?.name ?? '',
      from_ms: incident.fromMs,
      to_ms: incident.toMs,
      error_rate: incident.errorRate,
      latency_x: incident.latencyX,
    };
    const out: TruthIncident[] = [];
    if (incident.errorRate > 0) out.push({ ...base, kind: 'error_rate' });
    if (incident.latencyX > 1) out.push({ ...base, kind: 'latency' });
    return out;
  }

  private failedEventIds(): string[] {
    const ids: string[] = [];
    for (const id of this.failedCopies.keys()) {
      if ((this.ackedCopies.get(id) ?? 0) > 0) continue; // a duplicate copy made it
      if (ids.length >= MAX_FAILED_IDS) break;
      ids.push(id);
    }
    return ids;
  }
}

function count(counts: DeliveryCounts, delivery: Delivery): void {
  counts.deliveries++;
  if (delivery.kind === 'bad') counts.bad++;
  else if (delivery.copy === 1) counts.duplicates++;
  else counts.valid++;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
