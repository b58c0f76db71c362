// The processor loop: consume a batch, run the handler, produce the outputs and commit the input offsets
// in one Kafka transaction. Any failure aborts and rewinds to the committed offsets, so nothing is lost
// and nothing is written twice.
import { TributaryError, describeError, isRetryable, isTributaryError } from '../../errors.ts';
import { nextBackoffMs, sleep } from '../../kafka/index.ts';
import { LoopProgress } from '../host/loop-progress.ts';
import { faultPoint } from '../../testing/fault-points.ts';
import type { InputConsumer, Message, TransactionalProducer } from '../../kafka/index.ts';
import type { Logger } from '../../observability/index.ts';
import type { ProcessorMetrics } from './processor-metrics.ts';
import type { AnyProcessorDefinition } from './definition.ts';
import type { BatchEnvironment, BatchResult, RawRecord } from './batch.ts';
import { DEAD_LETTER_OUTPUT, processBatch } from './batch.ts';
import { positionsPastCommitted } from './marker-offsets.ts';

export interface TransactionLoopDeps {
  definition: AnyProcessorDefinition;
  consumer: InputConsumer;
  producer: TransactionalProducer;
  env: BatchEnvironment;
  metrics: ProcessorMetrics;
  log: Logger;
  maxBatchRecords: number;
  /** Fetches what decoding the batch needs (writer schemas by id) before the sync decode loop. */
  prepareInput(values: ReadonlyArray<Buffer | null>): Promise<void>;
  /** How long a failing rewind after an abort is retried before the process stops. Default 120 000 ms. */
  rewindGiveUpMs?: number;
  /** No completed loop turn for this long and /healthz goes false. Default DEFAULT_STALL_MS. */
  stallMs?: number;
  /** Runs before each batch is handled, e.g. reference tables applying their updates. */
  betweenBatches?: () => void;
}

/** A consume's records (or its failure), with the assignment epoch sampled before it started. */
interface FetchedBatch {
  epoch: number;
  messages: Message[];
  error?: unknown;
}

/** The batch straddled a rebalance: its offsets may belong to another copy now, so it must not commit. */
class RebalancedDuringBatch extends Error {}

const MAX_BACKOFF_MS = 10_000;
// Below max.poll.interval.ms (300 s): a copy that cannot rewind stops before the group drops it.
const REWIND_GIVE_UP_MS = 120_000;

/** What the loop does after a failed batch or consume, decided by error code (never by message). */
export type Recovery = 'rewind' | 'back-off-and-rewind' | 'stop';

export function recoveryFor(error: unknown): Recovery {
  if (error instanceof RebalancedDuringBatch) return 'rewind';
  return isRetryable(error) ? 'back-off-and-rewind' : 'stop';
}

function toRawRecord(message: Message): RawRecord {
  const key =
    message.key === undefined || message.key === null
      ? null
      : Buffer.isBuffer(message.key)
        ? message.key
        : Buffer.from(message.key);
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key,
    value: message.value,
    timestamp: message.timestamp ?? 0,
    ...(message.headers === undefined ? {} : { headers: message.headers }),
  };
}

export class TransactionLoop {
  /** /healthz of the processor: a turn that never completes (a commit without end) is no progress. */
  readonly progress: LoopProgress;
  private stopping = false;
  private backoffMs = 0;
  /** Next offset this copy last committed per `topic/partition` (see commitPastMarkers). */
  private readonly committedAt = new Map<string, number>();
  /** The next batch, consumed while the last transaction's offsets and commit made their round trips. */
  private ahead: Promise<FetchedBatch> | undefined;

  constructor(private readonly deps: TransactionLoopDeps) {
    this.progress = new LoopProgress(deps.stallMs);
  }

  /** Finish the batch in hand (commit or abort), then return from run(). */
  stop(): void {
    this.stopping = true;
  }

  async run(): Promise<void> {
    try {
      while (!this.stopping) {
        const fetched = await (this.ahead ?? this.fetch());
        this.ahead = undefined;
        if (fetched.error !== undefined) {
          await this.recover(fetched.error);
        } else if (fetched.messages.length > 0) {
          // A batch in hand when stop() arrives is still committed; the loop ends after it.
          // A table update becomes visible between batches, never in the middle of one.
          this.deps.betweenBatches?.();
          await this.processAndCommit(fetched.messages, fetched.epoch);
        } else {
          await this.commitPastMarkers(fetched.epoch);
          await this.runIdleTimers(fetched.epoch);
        }
        this.progress.progressed();
      }
    } finally {
      // Never close the consumer under a native consume; what it read is uncommitted and read again.
      await this.ahead;
    }
  }

  /** One consume, never rejecting: a failure comes back as `error` for the loop to recover from. */
  private fetch(): Promise<FetchedBatch> {
    const { consumer, maxBatchRecords } = this.deps;
    // Sampled before consume: a rebalance handled while the native consume fills the batch changes it.
    const epoch = consumer.assignmentEpoch;
    return consumer.consumeBatch(maxBatchRecords).then(
      (messages) => ({ epoch, messages }),
      (error: unknown) => ({ epoch, messages: [], error }),
    );
  }

  /**
   * `epoch`: the assignment epoch the batch was consumed under; offsets go out only under that one.
   * Starts the next batch's consume once this batch's outputs are produced (`ahead`).
   */
  private async processAndCommit(messages: Message[], epoch: number): Promise<void> {
    const { definition, consumer, producer, env, metrics } = this.deps;
    const startedAt = performance.now();
    const records = messages.map(toRawRecord);
    let result: BatchResult;
    try {
      await this.syncState();
      if (definition.input.value.kind === 'avro') await this.deps.prepareInput(records.map((r) => r.value));
      result = processBatch(definition, records, env);
      await producer.begin();
      await this.produceAll(result);
      if (consumer.assignmentEpoch !== epoch) throw new RebalancedDuringBatch();
      // Offsets go out as numbers, not as the consumer's position, so the next consume may run now: it
      // fills the main thread's wait on the two round trips below (about a third of a pass-through batch).
      if (!this.stopping) this.ahead = this.fetch();
      faultPoint('processor.send-offsets');
      await producer.sendOffsets([...result.nextOffsets.values()], consumer.raw);
      // sendOffsets reads the group generation off the JS thread; under eager rebalancing a new generation
      // needs our revoke handled first, so an unchanged epoch here means the offsets went out under ours.
      if (consumer.assignmentEpoch !== epoch) throw new RebalancedDuringBatch();
      faultPoint('processor.commit');
      await producer.commit();
    } catch (error) {
      metrics.transactions.inc({ outcome: 'aborted' });
      // What it read lies past the offsets the rewind goes back to: dropped, and read again after it.
      await this.ahead;
      this.ahead = undefined;
      await this.recover(error);
      return;
    }
    env.state?.commit();
    env.time?.commit();
    for (const [key, next] of result.nextOffsets) this.committedAt.set(key, next.offset);
    this.backoffMs = 0;
    this.recordCommitted(records, result, (performance.now() - startedAt) / 1000);
  }

  /** An idle turn: positions that moved past transaction markers only are committed (marker-offsets.ts). */
  private async commitPastMarkers(epoch: number): Promise<void> {
    const { consumer, producer } = this.deps;
    const moved = positionsPastCommitted(consumer.positions(), this.committedAt);
    if (moved.length === 0) return;
    try {
      await producer.begin();
      if (consumer.assignmentEpoch !== epoch) throw new RebalancedDuringBatch();
      await producer.sendOffsets(moved, consumer.raw);
      if (consumer.assignmentEpoch !== epoch) throw new RebalancedDuringBatch();
      await producer.commit();
    } catch (error) {
      await this.recover(error);
      return;
    }
    for (const { topic, partition, offset } of moved) this.committedAt.set(`${topic}/${partition}`, offset);
  }

  /**
   * Nothing to consume: a timer processor's wall-clock tick (idle partitions close their windows). It
   * runs a transaction only when a timer emitted or wrote state.
   */
  private async runIdleTimers(epoch: number): Promise<void> {
    const { definition, consumer, producer, env, metrics } = this.deps;
    if (definition.onWatermark === undefined || env.time === undefined) return;
    try {
      await this.syncState();
      const result = processBatch(definition, [], env);
      if (result.messages.length === 0) return;
      await producer.begin();
      await this.produceAll(result);
      if (consumer.assignmentEpoch !== epoch) throw new RebalancedDuringBatch();
      await producer.commit();
      metrics.transactions.inc({ outcome: 'committed' });
      for (const [topic, count] of result.emitted)
        metrics.records.inc({ topic, outcome: 'emitted', reason: '' }, count);
    } catch (error) {
      metrics.transactions.inc({ outcome: 'aborted' });
      await this.recover(error);
      return;
    }
    env.state?.commit();
    env.time.commit();
  }

  /** Restores state of newly assigned partitions before any of their records is handled. */
  private async syncState(): Promise<void> {
    if (this.deps.env.state === undefined) return;
    await this.deps.env.state.sync(this.assignedInputPartitions());
  }

  private assignedInputPartitions(): number[] {
    const { env, consumer, definition } = this.deps;
    const inputTopic = env.config.topicPrefix + definition.input.topic;
    return consumer.assignment.filter((tp) => tp.topic === inputTopic).map((tp) => tp.partition);
  }

  private async produceAll(result: BatchResult): Promise<void> {
    if (faultPoint('processor.produce')) return;
    const { producer } = this.deps;
    for (const message of result.messages) if (!producer.tryProduce(message)) await producer.produce(message);
  }

  private recordCommitted(records: RawRecord[], result: BatchResult, seconds: number): void {
    const { metrics, definition } = this.deps;
    metrics.transactions.inc({ outcome: 'committed' });
    metrics.batchSeconds.observe(seconds);
    metrics.batchRecords.observe(records.length);
    const inputTopic = records[0]?.topic ?? definition.input.topic;
    metrics.records.inc({ topic: inputTopic, outcome: 'consumed', reason: '' }, records.length);
    for (const [topic, count] of result.emitted)
      metrics.records.inc({ topic, outcome: 'emitted', reason: '' }, count);
    if (result.deadLetters.size > 0) {
      const dlqTopic = this.deps.env.topicFor(DEAD_LETTER_OUTPUT);
      for (const [reason, count] of result.deadLetters)
        metrics.records.inc({ topic: dlqTopic, outcome: 'dead_letter', reason }, count);
    }
    for (const [key, count] of result.counted) {
      const [outcome = key, reason = ''] = key.split(':');
      metrics.records.inc({ topic: inputTopic, outcome, reason }, count);
    }
  }

  /**
   * Abort, then decide by error code: rewind (at once after a rebalance, after a backoff for a transient
   * failure) or rethrow to stop the process. It returns only once the consumer is back at the committed
   * offsets, so the next consume can never start past records no transaction committed.
   */
  private async recover(error: unknown): Promise<void> {
    const { producer, consumer, log, env } = this.deps;
    // Sampled before the abort ends the transaction: the coordinator's fence is not a twin's.
    const mustBeReplaced = producer.mustBeReplaced(error);
    env.state?.rollback();
    env.time?.rollback(env.now());
    consumer.markPositionUncommitted();
    if (mustBeReplaced) {
      // No abort through this instance: the coordinator has ended the transaction or will (fenced,
      // expired), or a call is still running in it; the new instance's start aborts what is left open.
      await producer.replaceAfterFatal();
    } else {
      try {
        await producer.abort(); // throws only fatal errors (the producer's contract)
      } catch (abortError) {
        // Only the abort itself failed for good: the batch's commit never went out or was refused
        // (abortable), so its transaction cannot have committed and a new instance may take over. After a
        // fatal commit the outcome is unknown: stop, and the restart restores state from the changelogs.
        if (!producer.replaceableAfterFailedAbort(abortError, error)) throw classify(abortError);
        log.warn(
          { err: abortError },
          'the producer failed for good while aborting (or its transaction timed out on the coordinator); ' +
            'replacing it (its open transaction is aborted)',
        );
        await producer.replaceAfterFatal();
      }
    }
    if (mustBeReplaced) {
      // What a restart would do, in process: state and event time come back from the changelogs and
      // the position from the committed offsets, so it holds whichever way the transaction ended.
      const partitions = this.assignedInputPartitions();
      env.state?.release(partitions);
      env.time?.release(partitions);
      log.warn(
        { err: error, partitions },
        'the transaction ended unknown to this copy (timed out on the coordinator, expired while resumed, ' +
          'or a call left unanswered); replaced the producer, restoring state from the changelogs and rewinding',
      );
    }
    const recovery = mustBeReplaced ? 'back-off-and-rewind' : recoveryFor(error);
    if (recovery === 'stop') throw classify(error);
    if (recovery === 'rewind') {
      log.info(
        'partitions moved during the batch; aborted it, the new owner reprocesses from the committed offsets',
      );
    } else {
      this.backoffMs = nextBackoffMs(this.backoffMs, MAX_BACKOFF_MS);
      log.warn(
        { err: error, backoffMs: this.backoffMs },
        'batch failed with a transient error; aborted, rewinding and retrying',
      );
      await consumer.servingRebalances(sleep(this.backoffMs));
    }
    await this.rewindUntilDone();
  }

  /** Retries the rewind with backoff; past the bound (or on a permanent failure) the process stops. */
  private async rewindUntilDone(): Promise<void> {
    if (faultPoint('processor.rewind')) return;
    const giveUpAt = Date.now() + (this.deps.rewindGiveUpMs ?? REWIND_GIVE_UP_MS);
    let backoffMs = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.consumer.rewindToCommitted();
        return;
      } catch (error) {
        if (!isRetryable(error) || Date.now() >= giveUpAt) {
          throw new TributaryError(
            'TRIBUTARY_KAFKA_REWIND_FAILED',
            `could not move the consumer back to the committed offsets (${attempt} attempt(s)): ${describeError(error)}`,
            { cause: error, context: { attempt } },
          );
        }
        backoffMs = nextBackoffMs(backoffMs, MAX_BACKOFF_MS);
        this.deps.log.warn(
          { err: error, attempt, backoffMs },
          'rewind to the committed offsets failed; retrying it before consuming again',
        );
        await this.deps.consumer.servingRebalances(
          sleep(Math.min(backoffMs, Math.max(0, giveUpAt - Date.now()))),
        );
      }
    }
  }
}

function classify(error: unknown): TributaryError {
  if (isTributaryError(error)) return error;
  return new TributaryError(
    'TRIBUTARY_KAFKA_FATAL',
    `unexpected failure in the processor loop: ${String(error)}`,
    { cause: error, retryable: false },
  );
}
