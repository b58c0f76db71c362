// Prometheus metrics of one processor process. Labels only from small closed sets (never ids or offsets).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Outcomes the runtime records itself; a processor's own come from its definition's `outcomes`. */
export const RUNTIME_OUTCOMES = ['consumed', 'emitted', 'dead_letter'] as const;
export type RuntimeOutcome = (typeof RUNTIME_OUTCOMES)[number];

export class ProcessorMetrics {
  readonly registry = new Registry();
  readonly records: Counter<'processor' | 'topic' | 'outcome' | 'reason'>;
  readonly transactions: Counter<'processor' | 'outcome'>;
  readonly batchSeconds: Histogram<'processor'>;
  readonly batchRecords: Histogram<'processor'>;
  readonly consumerLag: Gauge<'processor' | 'topic' | 'partition'>;
  readonly assignedPartitions: Gauge<'processor'>;
  readonly ready: Gauge<'processor'>;
  readonly stateHorizonSeconds: Gauge<'processor' | 'store' | 'horizon'>;
  /** What the horizon gauge reports at each scrape (set by the runtime when the processor has state). */
  stateHorizons: () => ReadonlyArray<{ store: string; configuredMs: number; keptMs: number }> = () => [];

  constructor(readonly processor: string) {
    this.registry.setDefaultLabels({ processor });
    collectDefaultMetrics({ register: this.registry, prefix: 'tributary_process_' });
    const registers = [this.registry];
    this.records = new Counter({
      name: 'tributary_records_total',
      help: 'Records by topic and outcome (consumed, emitted, dead_letter, duplicate, …) and reason',
      labelNames: ['processor', 'topic', 'outcome', 'reason'],
      registers,
    });
    this.transactions = new Counter({
      name: 'tributary_transactions_total',
      help: 'Kafka transactions by outcome (committed, aborted)',
      labelNames: ['processor', 'outcome'],
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'tributary_batch_duration_seconds',
      help: 'Time from a batch being consumed to its transaction being committed',
      labelNames: ['processor'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.batchRecords = new Histogram({
      name: 'tributary_batch_records',
      help: 'Input records per transaction',
      labelNames: ['processor'],
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000, 50000],
      registers,
    });
    // Partition is bounded by the topic's partition count, so it is a closed set too.
    this.consumerLag = new Gauge({
      name: 'tributary_consumer_lag_records',
      help: 'Records between what the copy consumed or committed and the last stable offset, per assigned partition',
      labelNames: ['processor', 'topic', 'partition'],
      registers,
    });
    this.assignedPartitions = new Gauge({
      name: 'tributary_assigned_partitions',
      help: 'Partitions currently assigned to this copy',
      labelNames: ['processor'],
      registers,
    });
    this.ready = new Gauge({
      name: 'tributary_ready',
      help: '1 when /readyz answers ready',
      labelNames: ['processor'],
      registers,
    });
    const horizons = (): ReturnType<typeof this.stateHorizons> => this.stateHorizons();
    this.stateHorizonSeconds = new Gauge({
      name: 'tributary_state_horizon_seconds',
      help: 'Dedup horizon per store: configured, and kept (shortest over partitions; less when the id cap bites)',
      labelNames: ['processor', 'store', 'horizon'],
      registers,
      collect() {
        for (const { store, configuredMs, keptMs } of horizons()) {
          this.set({ store, horizon: 'configured' }, configuredMs / 1000);
          this.set({ store, horizon: 'kept' }, keptMs / 1000);
        }
      },
    });
  }

  /** Shows every declared outcome (and reason) at 0 from start, so the label set is visible and closed. */
  declareOutcomes(topic: string, labels: ReadonlyArray<{ outcome: string; reason: string }>): void {
    for (const { outcome, reason } of labels) this.records.inc({ topic, outcome, reason }, 0);
  }
}
