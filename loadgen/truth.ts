// Ground truth: what the pipeline must end up with, counted from the deliveries the broker
// acknowledged, with the generator's own (normalised) values and none of the pipeline's code.
import { BAD_CLASSES, EXPECTED_REASON } from './bad-events.ts';
import type { BadClass } from './bad-events.ts';
import type { Fleet } from './fleet.ts';
import type { Delivery } from './generator.ts';
import type { Incident } from './incidents.ts';
import { describeIncidents } from './incident-truth.ts';
import type { TruthIncident } from './incident-truth.ts';
import { MinuteStats, minuteStart } from './minute-stats.ts';
import { EnrichedCounts } from './enriched-truth.ts';
import type { EnrichedCell } from './enriched-truth.ts';
import type { ReferenceTimeline } from './reference-timeline.ts';
import type { TruthStats } from './minute-stats.ts';
import {
  FACT,
  FACT_STRIDE,
  KIND_BAD,
  KIND_DUPLICATE,
  TIMINGS,
  badClassOf,
  writeFacts,
} from './record-batch.ts';

export type { TruthStats } from './minute-stats.ts';
export type { TruthIncident } from './incident-truth.ts';

export interface DeliveryCounts {
  /** Every record: valid + bad + duplicates. */
  deliveries: number;
  /** Valid events, first deliveries. */
  valid: number;
  bad: number;
  /** Second deliveries of valid events. */
  duplicates: number;
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
  /** Every incident injected, one kind each; read them with `incidentsOf` (it also reads older truths). */
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
  /** The reference data the run published and its changes over event time (absent in older truths). */
  reference?: ReferenceTimeline;
  /** Valid events per (team, tier, plan, minute) as enrich must join them: what requests.enriched must hold. */
  enriched_1m?: EnrichedCell[];
  /** Event ids (record keys, valid or bad) none of whose deliveries was acknowledged; normally empty, at most 10 000. */
  failed_event_ids: string[];
}

const MAX_FAILED_IDS = 10_000;
const LATE = TIMINGS.indexOf('late');
const OUT_OF_ORDER = TIMINGS.indexOf('out_of_order');

function zeroCounts(): DeliveryCounts {
  return { deliveries: 0, valid: 0, bad: 0, duplicates: 0 };
}

/**
 * Counts deliveries as the producer reports on them. The hot path takes a record's facts from a
 * RecordBatch (`countProduced`, `countAcknowledged`, `countFailed`); `onProduced`, `onAcknowledged` and
 * `onFailed` take a Delivery and go through the same code.
 */
export class TruthRecorder {
  readonly produced = zeroCounts();
  readonly acknowledged = zeroCounts();
  readonly failed = zeroCounts();
  private readonly stats: MinuteStats;
  private readonly enriched: EnrichedCounts | undefined;
  /** Acknowledged copies per event index, for events delivered twice. */
  private readonly ackedCopies = new Map<number, number>();
  private readonly failedIndexes = new Set<number>();
  private readonly deadLetters = new Map<BadClass, number>();
  private readonly lateByMinute = new Map<number, number>();
  private readonly scratch = new Float64Array(FACT_STRIDE);
  private validEvents = 0;
  private duplicates = 0;
  private lateCount = 0;
  private outOfOrder = 0;

  constructor(
    private readonly fleet: Fleet,
    /** The run's tag: event `i` has the key `<runTag>-<i>`. */
    private readonly runTag: string,
    /** The run's reference timeline, when its reference data was published for it. */
    timeline?: ReferenceTimeline,
  ) {
    this.stats = new MinuteStats(fleet);
    this.enriched = timeline === undefined ? undefined : new EnrichedCounts(fleet, timeline);
  }

  onProduced(delivery: Delivery): void {
    writeFacts(delivery, this.scratch, 0);
    this.countProduced(this.scratch, 0);
  }

  onAcknowledged(delivery: Delivery): void {
    writeFacts(delivery, this.scratch, 0);
    this.countAcknowledged(this.scratch, 0);
  }

  onFailed(delivery: Delivery): void {
    writeFacts(delivery, this.scratch, 0);
    this.countFailed(this.scratch, 0);
  }

  countProduced(facts: Float64Array, at: number): void {
    count(this.produced, facts[at + FACT.kind] ?? 0);
  }

  countAcknowledged(facts: Float64Array, at: number): void {
    const kind = facts[at + FACT.kind] ?? 0;
    count(this.acknowledged, kind);
    if (kind === KIND_BAD) {
      const badClass = badClassOf(facts, at);
      this.deadLetters.set(badClass, (this.deadLetters.get(badClass) ?? 0) + 1);
      return;
    }
    if (facts[at + FACT.duplicated] === 1) {
      const index = facts[at + FACT.index] ?? 0;
      const copies = (this.ackedCopies.get(index) ?? 0) + 1;
      this.ackedCopies.set(index, copies);
      if (copies > 1) {
        this.duplicates++;
        return;
      }
    }
    this.countEvent(facts, at);
  }

  countFailed(facts: Float64Array, at: number): void {
    count(this.failed, facts[at + FACT.kind] ?? 0);
    this.failedIndexes.add(facts[at + FACT.index] ?? 0);
  }

  /** The truth so far; `meta` names the run. */
  result(
    meta: Pick<
      Truth,
      'run_id' | 'topic' | 'partitions' | 'started_at' | 'finished_at' | 'generator' | 'event_time'
    >,
    incidents: readonly Incident[],
  ): Truth {
    const stats = this.stats.rows();
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
      incidents: describeIncidents(incidents, this.fleet),
      totals,
      stats_1m: stats,
      ...(this.enriched === undefined
        ? {}
        : { reference: this.enriched.timeline, enriched_1m: this.enriched.rows() }),
      failed_event_ids: this.failedEventIds(),
    };
  }

  private countEvent(facts: Float64Array, at: number): void {
    this.validEvents++;
    const ts = facts[at + FACT.ts] ?? 0;
    const timing = facts[at + FACT.code];
    if (timing === LATE) {
      this.lateCount++;
      const minute = minuteStart(ts);
      this.lateByMinute.set(minute, (this.lateByMinute.get(minute) ?? 0) + 1);
    } else if (timing === OUT_OF_ORDER) {
      this.outOfOrder++;
    }
    this.stats.add(
      facts[at + FACT.endpoint] ?? 0,
      facts[at + FACT.region] ?? 0,
      ts,
      facts[at + FACT.status] ?? 0,
      facts[at + FACT.latencyMs] ?? 0,
      facts[at + FACT.bytesOut] ?? 0,
    );
    this.enriched?.add(facts[at + FACT.endpoint] ?? 0, facts[at + FACT.customer] ?? 0, ts);
  }

  private failedEventIds(): string[] {
    const ids: string[] = [];
    for (const index of this.failedIndexes) {
      if ((this.ackedCopies.get(index) ?? 0) > 0) continue; // the other copy made it
      if (ids.length >= MAX_FAILED_IDS) break;
      ids.push(`${this.runTag}-${index}`);
    }
    return ids;
  }
}

function count(counts: DeliveryCounts, kind: number): void {
  counts.deliveries++;
  if (kind === KIND_BAD) counts.bad++;
  else if (kind === KIND_DUPLICATE) counts.duplicates++;
  else counts.valid++;
}
