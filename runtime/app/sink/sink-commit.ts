// The commit of a flushed sink batch: its dead letters and its next offsets in one Kafka transaction, both
// or neither, retried until they commit. A commit is retried only after an abort that worked, or after a
// failed abort that a new producer can take over from; a transaction the coordinator timed out (or a call
// librdkafka never answered) abandons the flush, and the loop resumes from what the store holds. Anything else stops the process, whose
// restart fences this producer and resumes from the store's ledger.
import { TributaryError, isTributaryError } from '../../errors.ts';
import type { InputConsumer, OutgoingMessage, TransactionalProducer } from '../../kafka/index.ts';
import type { Logger } from '../../observability/index.ts';
import { faultPoint } from '../../testing/fault-points.ts';
import type { SinkCodecs } from './sink-codecs.ts';
import { deadLetterFor } from './sink-commit-records.ts';
import type { BoundTopic, FlushPlan } from './sink-flush.ts';
import { FlushAbandoned } from './sink-flush.ts';
import type { SinkMetrics } from './sink-metrics.ts';

export interface SinkCommitDeps {
  /** The sink's name, which its dead letters carry as their processor. */
  name: string;
  consumer: InputConsumer;
  producer: TransactionalProducer;
  codecs: SinkCodecs;
  bound: ReadonlyMap<string, BoundTopic>;
  metrics: SinkMetrics;
  log: Logger;
  maxMessageBytes: number;
  /** Retries Kafka's transient failures while the consumer stays polled (sink-polled-wait.ts). */
  retryTransient<T>(what: string, work: () => Promise<T>): Promise<T>;
  /** The coordinator timed the transaction out and the producer was replaced: sync the assignment again. */
  onFenced(): void;
}

export class SinkCommitter {
  constructor(private readonly deps: SinkCommitDeps) {}

  /** Dead letters and offsets in one transaction: both or neither, retried until they commit. */
  async commit(plan: FlushPlan, epoch: number): Promise<void> {
    const { consumer, metrics, name, maxMessageBytes, codecs } = this.deps;
    faultPoint('sink.commit');
    const deadLetters = plan.rejections.map((r) => deadLetterFor(r, name, maxMessageBytes, codecs));
    await this.deps.retryTransient('committing offsets', async () => {
      if (consumer.assignmentEpoch !== epoch) throw new FlushAbandoned();
      await this.transaction(plan, deadLetters);
    });
    metrics.commits.inc({ outcome: 'committed' });
    for (const rejection of plan.rejections) {
      const target = this.deps.bound.get(rejection.message.topic)?.binding.target ?? '';
      metrics.rows.inc({ target, outcome: 'dead_letter' });
    }
  }

  /** One attempt; a failure leaves no transaction open (aborted, or the producer replaced) or stops. */
  private async transaction(plan: FlushPlan, deadLetters: readonly OutgoingMessage[]): Promise<void> {
    const { producer, consumer } = this.deps;
    try {
      await producer.begin();
      for (const message of deadLetters) await producer.produce(message);
      await producer.sendOffsets(plan.nextOffsets, consumer.raw);
      await producer.commit();
    } catch (error) {
      if (producer.mustBeReplaced(error)) {
        // The coordinator's own fence, or a call librdkafka left unanswered: what a restart would do, in
        // process. The store's ledger and Kafka's committed offsets say where each partition resumes,
        // whichever way the commit ended.
        this.deps.log.warn(
          { err: error },
          'the transaction ended unknown to this sink (timed out on the coordinator, expired while resumed, ' +
            'or a call left unanswered); replacing the producer and resuming from what the store holds',
        );
        await producer.replaceAfterFatal();
        this.deps.onFenced();
        throw new FlushAbandoned();
      }
      // Retried only after an abort that worked; a failed abort or a fatal error stops the process,
      // whose restart fences this producer and resumes from the ledger.
      if (!isTributaryError(error) || !error.retryable) throw error;
      await this.abort(error);
      throw error;
    }
  }

  /** Aborts after `failure`; a new producer takes over where the abort failed for good. */
  private async abort(failure: TributaryError): Promise<void> {
    const { producer } = this.deps;
    try {
      await producer.abort();
    } catch (abortError) {
      // The coordinator timed the transaction out during a broker outage (or the instance failed on
      // its own): nothing of it committed, so a new producer takes over and the commit is retried.
      if (!producer.replaceableAfterFailedAbort(abortError, failure))
        throw new TributaryError(
          'TRIBUTARY_SINK_TRANSACTION_STUCK',
          `the commit failed (${failure.message}) and the transaction could not be aborted; stopping`,
          { cause: abortError },
        );
      this.deps.log.warn({ err: abortError }, 'the abort failed for good; replacing the producer');
      await producer.replaceAfterFatal();
    }
  }
}
