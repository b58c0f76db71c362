// One checkpoint of the sink: a batch taken from the pending records is planned (sink-flush.ts), written
// through the store's ledger (sink-ledger-write.ts), and only then are its offsets committed with its dead
// letters (sink-commit.ts); the partitions' resume points then move past it. A batch whose partitions moved
// meanwhile is dropped: the new owner resumes from what the store holds.
import type {
  InputConsumer,
  Message,
  TopicPartitionOffset,
  TransactionalProducer,
} from '../../kafka/index.ts';
import type { Logger } from '../../observability/index.ts';
import { mergePositions } from './sink-commit-records.ts';
import { SinkCommitter } from './sink-commit.ts';
import type { SinkCodecs } from './sink-codecs.ts';
import type { SinkConnector } from './sink-definition.ts';
import type { BoundTopic } from './sink-flush.ts';
import { FlushAbandoned, partitionKeyOf, planFlush } from './sink-flush.ts';
import { LedgerWriter } from './sink-ledger-write.ts';
import type { SinkMetrics } from './sink-metrics.ts';
import type { PolledWait } from './sink-polled-wait.ts';
import type { ResumePoint } from './sink-resume.ts';
import { committedThrough } from './sink-resume.ts';
import type { StoreGate } from './sink-store-gate.ts';

/** What one copy of a sink works with: its identity, its Kafka clients, its store, codecs and bindings. */
export interface SinkCopyDeps {
  name: string;
  /** This copy's identity in the store's ledger and claims; unique per process. */
  writer: string;
  consumer: InputConsumer;
  producer: TransactionalProducer;
  connector: SinkConnector;
  codecs: SinkCodecs;
  /** Physical topic → its binding and dead-letter topic. */
  bound: ReadonlyMap<string, BoundTopic>;
  metrics: SinkMetrics;
  log: Logger;
}

export interface CheckpointDeps extends SinkCopyDeps {
  limits: { maxRetryBackoffMs: number; maxMessageBytes: number };
  waits: PolledWait;
  gate: StoreGate;
  /** True once the batch must not go on: the loop's assignment is not the one it was taken under. */
  abandoned(): boolean;
  /** The coordinator timed the transaction out and the producer was replaced: sync the assignment again. */
  onFenced(): void;
}

export class SinkCheckpoint {
  private readonly ledger: LedgerWriter;
  private readonly committer: SinkCommitter;

  constructor(private readonly deps: CheckpointDeps) {
    const { waits, gate, limits } = deps;
    this.ledger = new LedgerWriter({
      ...deps,
      maxBackoffMs: limits.maxRetryBackoffMs,
      polled: (work) => waits.polled(work),
      onUnavailable: (error) => gate.markUnavailable(error),
      onAvailable: () => gate.markAvailable(),
    });
    this.committer = new SinkCommitter({
      ...deps,
      maxMessageBytes: limits.maxMessageBytes,
      retryTransient: (what, work) => waits.retryTransient(what, work),
    });
  }

  /**
   * Writes `messages` and commits them; `positions` (the consumer's) also commit partitions they skip.
   * Returns the offsets committed, or undefined when the partitions moved during the flush.
   */
  async flush(
    messages: Message[],
    positions: ReadonlyMap<string, number>,
    points: Map<string, ResumePoint>,
    epoch: number,
  ): Promise<TopicPartitionOffset[] | undefined> {
    const { codecs, bound, connector, metrics } = this.deps;
    try {
      await this.deps.waits.retryTransient('fetching writer schemas', () =>
        codecs.prepare(messages.map((m) => ({ topic: m.topic, value: m.value ?? null }))),
      );
      const plan = planFlush(messages, bound, points, codecs, connector);
      const recordsNext = plan.nextOffsets;
      plan.nextOffsets = offsetsToCommit(recordsNext, positions, points);
      for (const [target, count] of plan.skipped)
        metrics.rows.inc({ target, outcome: 'already_stored' }, count);
      await this.ledger.write(plan, points);
      await this.committer.commit(plan, epoch);
      advancePoints(points, recordsNext, plan.nextOffsets);
      return plan.nextOffsets;
    } catch (error) {
      if (!(error instanceof FlushAbandoned)) throw error;
      metrics.commits.inc({ outcome: 'skipped_rebalanced' });
      this.deps.log.info('partitions moved during a flush; the new owner resumes from what the store holds');
      return undefined;
    }
  }
}

/** Past the batch's records and the markers skipped; never behind what was committed with dead letters. */
function offsetsToCommit(
  recordsNext: readonly TopicPartitionOffset[],
  positions: ReadonlyMap<string, number>,
  points: ReadonlyMap<string, ResumePoint>,
): TopicPartitionOffset[] {
  // Never behind what was committed: a refill re-reads records whose dead letters are committed.
  return mergePositions(recordsNext, positions).map((o) => ({
    ...o,
    offset: Math.max(o.offset, points.get(partitionKeyOf(o.topic, o.partition))?.deadLettersFrom ?? 0),
  }));
}

/** After a commit: records below `recordsNext` are handled, dead letters below `committed` committed. */
function advancePoints(
  points: Map<string, ResumePoint>,
  recordsNext: readonly TopicPartitionOffset[],
  committed: readonly TopicPartitionOffset[],
): void {
  const next = new Map(recordsNext.map((o) => [partitionKeyOf(o.topic, o.partition), o.offset]));
  for (const { topic, partition, offset } of committed) {
    const key = partitionKeyOf(topic, partition);
    const point = points.get(key);
    if (point !== undefined) points.set(key, committedThrough(point, next.get(key) ?? 0, offset));
  }
}
