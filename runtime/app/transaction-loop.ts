// The processor loop: consume a batch, run the handler, produce the outputs and commit the input offsets
// in one Kafka transaction. Any failure aborts and rewinds to the committed offsets, so nothing is lost
// and nothing is written twice.
import { TributaryError, isTributaryError } from '../errors.ts';
import type { InputConsumer, Message, TransactionalProducer } from '../kafka/index.ts';
import type { Logger, ProcessorMetrics } from '../observability/index.ts';
import type { AnyProcessorDefinition } from './definition.ts';
import type { BatchEnvironment, BatchResult, RawRecord } from './batch.ts';
import { DEAD_LETTER_OUTPUT, processBatch } from './batch.ts';

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
}

/** The batch straddled a rebalance: its offsets may belong to another copy now, so it must not commit. */
class RebalancedDuringBatch extends Error {}

const MAX_BACKOFF_MS = 10_000;

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
  };
}

export class TransactionLoop {
  private stopping = false;
  private backoffMs = 0;
  private lastTurn = Date.now();

  constructor(private readonly deps: TransactionLoopDeps) {}

  /** Wall-clock time of the last loop turn; /healthz uses it to notice a wedged loop. */
  get lastTurnAt(): number {
    return this.lastTurn;
  }

  /** Finish the batch in hand (commit or abort), then return from run(). */
  stop(): void {
    this.stopping = true;
  }

  async run(): Promise<void> {
    const { consumer, maxBatchRecords } = this.deps;
    while (!this.stopping) {
      this.lastTurn = Date.now();
      const messages = await this.consume(consumer, maxBatchRecords);
      // A batch in hand when stop() arrives is still committed; the loop ends after it.
      if (messages.length > 0) await this.processAndCommit(messages);
    }
  }

  private async consume(consumer: InputConsumer, maxBatchRecords: number): Promise<Message[]> {
    try {
      return await consumer.consumeBatch(maxBatchRecords);
    } catch (error) {
      await this.recover(error);
      return [];
    }
  }

  private async processAndCommit(messages: Message[]): Promise<void> {
    const { definition, consumer, producer, env, metrics } = this.deps;
    const epoch = consumer.assignmentEpoch;
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
      await producer.sendOffsets([...result.nextOffsets.values()], consumer.raw);
      await producer.commit();
    } catch (error) {
      metrics.transactions.inc({ outcome: 'aborted' });
      await this.recover(error);
      return;
    }
    env.state?.commit();
    this.backoffMs = 0;
    this.recordCommitted(records, result, (performance.now() - startedAt) / 1000);
  }

  /** Restores state of newly assigned partitions before any of their records is handled. */
  private async syncState(): Promise<void> {
    const { env, consumer, definition } = this.deps;
    if (env.state === undefined) return;
    const inputTopic = env.config.topicPrefix + definition.input.topic;
    await env.state.sync(
      consumer.assignment.filter((tp) => tp.topic === inputTopic).map((tp) => tp.partition),
    );
  }

  private async produceAll(result: BatchResult): Promise<void> {
    for (const message of result.messages) await this.deps.producer.produce(message);
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

  /** Abort, then decide by error code: rewind and retry, or rethrow to stop the process. */
  private async recover(error: unknown): Promise<void> {
    const { producer, log } = this.deps;
    this.deps.env.state?.rollback();
    try {
      await producer.abort();
    } catch (abortError) {
      throw classify(abortError);
    }
    if (error instanceof RebalancedDuringBatch) {
      log.info(
        'partitions moved during the batch; aborted it, the new owner reprocesses from the committed offsets',
      );
      await this.deps.consumer.rewindToCommitted();
      return;
    }
    const failure = classify(error);
    if (!failure.retryable) throw failure;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs === 0 ? 100 : this.backoffMs * 2);
    log.warn(
      { err: failure, backoffMs: this.backoffMs },
      'batch failed with a transient error; aborted, rewinding and retrying',
    );
    await new Promise((resolve) => setTimeout(resolve, this.backoffMs));
    await this.rewindQuietly();
  }

  private async rewindQuietly(): Promise<void> {
    try {
      await this.deps.consumer.rewindToCommitted();
    } catch (error) {
      // The next batch fails the same way and comes back here with backoff.
      this.deps.log.warn({ err: error }, 'rewind to committed offsets failed; will retry');
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
