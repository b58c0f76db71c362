// Prometheus metrics of one sink process. Labels only from small closed sets (sink, target, outcome).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type SinkRowOutcome = 'written' | 'already_stored' | 'dead_letter';

export class SinkMetrics {
  readonly registry = new Registry();
  readonly rows: Counter<'sink' | 'target' | 'outcome'>;
  readonly writeSeconds: Histogram<'sink' | 'target'>;
  readonly writeRetries: Counter<'sink' | 'target'>;
  readonly pendingRows: Gauge<'sink'>;
  readonly writesInFlight: Gauge<'sink'>;
  readonly commits: Counter<'sink' | 'outcome'>;
  readonly assignedPartitions: Gauge<'sink'>;
  readonly ready: Gauge<'sink'>;

  constructor(readonly sink: string) {
    this.registry.setDefaultLabels({ sink });
    collectDefaultMetrics({ register: this.registry, prefix: 'tributary_process_' });
    const registers = [this.registry];
    this.rows = new Counter({
      name: 'tributary_sink_rows_total',
      help: 'Source records by target and outcome (written, already_stored, dead_letter)',
      labelNames: ['sink', 'target', 'outcome'],
      registers,
    });
    this.writeSeconds = new Histogram({
      name: 'tributary_sink_write_duration_seconds',
      help: 'Time of one successful write (insert) of a batch into a target',
      labelNames: ['sink', 'target'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.writeRetries = new Counter({
      name: 'tributary_sink_write_retries_total',
      help: 'Writes the store refused or failed transiently, retried after a backoff',
      labelNames: ['sink', 'target'],
      registers,
    });
    this.pendingRows = new Gauge({
      name: 'tributary_sink_pending_rows',
      help: 'Records consumed and not yet written and committed',
      labelNames: ['sink'],
      registers,
    });
    this.writesInFlight = new Gauge({
      name: 'tributary_sink_writes_in_flight',
      help: 'Writes sent to the store and not yet acknowledged (0 or 1)',
      labelNames: ['sink'],
      registers,
    });
    this.commits = new Counter({
      name: 'tributary_sink_commits_total',
      help: 'Offset commits (with their dead letters) by outcome (committed, skipped_rebalanced, failed)',
      labelNames: ['sink', 'outcome'],
      registers,
    });
    this.assignedPartitions = new Gauge({
      name: 'tributary_assigned_partitions',
      help: 'Partitions currently assigned to this copy',
      labelNames: ['sink'],
      registers,
    });
    this.ready = new Gauge({
      name: 'tributary_ready',
      help: '1 when /readyz answers ready',
      labelNames: ['sink'],
      registers,
    });
  }
}
