// One flush of a sink: decode the batch, skip what the store already holds, turn the rest into rows per
// target, and write each target's rows with retries; rows the store can never hold become dead letters.
import { SerdeError, ValidationError, describeError, isTributaryError } from '../errors.ts';
import type { Message, TopicPartitionOffset } from '../kafka/index.ts';
import type { TributaryError } from '../errors.ts';
import type { Logger } from '../observability/index.ts';
import { UNDECODABLE_REASON } from './batch.ts';
import type { SinkCodecs } from './sink-codecs.ts';
import type { SinkBinding, SinkConnector, SinkRow } from './sink-definition.ts';
import type { SinkMetrics } from './sink-metrics.ts';
import { dedupToken, splitInHalves } from './sink-batch.ts';
import { faultPoint } from '../testing/fault-points.ts';

/** Reason code for a row the store refused as a value it can never hold. */
export const REJECTED_BY_STORE_REASON = 'rejected_by_store';

export interface BoundTopic {
  binding: SinkBinding;
  /** Physical dead-letter topic for this binding's rows. */
  deadLetterTopic: string;
}

export interface Rejection {
  message: Message;
  deadLetterTopic: string;
  reason: string;
  detail: string;
}

export interface FlushPlan {
  rowsByTarget: Map<string, SinkRow[]>;
  rejections: Rejection[];
  /** Next offset to consume per partition: what the commit after this flush records. */
  nextOffsets: TopicPartitionOffset[];
  /** Source of each row, by `topic/partition/offset`, to dead-letter a row the store refuses. */
  sources: Map<string, Message>;
}

export function partitionKeyOf(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

function rowKey(topic: string, partition: number, offset: number): string {
  return `${topic}/${partition}/${offset}`;
}

function rejectionFrom(error: unknown): { reason: string; detail: string } | undefined {
  if (error instanceof ValidationError) return { reason: error.reason, detail: error.detail };
  if (error instanceof SerdeError)
    return { reason: UNDECODABLE_REASON, detail: `${error.code}: ${describeError(error)}` };
  return undefined;
}

/**
 * Decides what each record becomes. A record at or below the store's offset for its partition is
 * already stored (skipped); one that cannot be decoded or encoded is dead-lettered, even when below that
 * offset, since its dead letter commits only with the offsets.
 */
export function planFlush(
  messages: readonly Message[],
  bound: ReadonlyMap<string, BoundTopic>,
  stored: ReadonlyMap<string, number>,
  codecs: SinkCodecs,
  connector: SinkConnector,
): FlushPlan & { skipped: Map<string, number> } {
  const plan = {
    rowsByTarget: new Map<string, SinkRow[]>(),
    rejections: [] as Rejection[],
    sources: new Map<string, Message>(),
    skipped: new Map<string, number>(),
  };
  const next = new Map<string, TopicPartitionOffset>();
  for (const message of messages) {
    const { topic, partition, offset } = message;
    next.set(partitionKeyOf(topic, partition), { topic, partition, offset: offset + 1 });
    const target = bound.get(topic);
    if (target === undefined) throw new Error(`consumed ${topic}, which no binding declares`);
    const alreadyStored = offset <= (stored.get(partitionKeyOf(topic, partition)) ?? -1);
    let row: SinkRow;
    try {
      const value = codecs.decode(topic, message.value ?? null);
      row = connector.encode({ binding: target.binding, topic, partition, offset, timestamp: 0, value });
    } catch (error) {
      const rejection = rejectionFrom(error);
      if (rejection === undefined) throw error;
      plan.rejections.push({ message, deadLetterTopic: target.deadLetterTopic, ...rejection });
      continue;
    }
    const name = target.binding.target;
    if (alreadyStored) {
      plan.skipped.set(name, (plan.skipped.get(name) ?? 0) + 1);
      continue;
    }
    const rows = plan.rowsByTarget.get(name) ?? [];
    rows.push(row);
    plan.rowsByTarget.set(name, rows);
    plan.sources.set(rowKey(topic, partition, offset), message);
  }
  return { ...plan, nextOffsets: [...next.values()] };
}

/** Thrown out of a flush whose partitions moved: its rows may now be another copy's to write. */
export class FlushAbandoned extends Error {}

export interface SinkWritesDeps {
  connector: SinkConnector;
  metrics: SinkMetrics;
  log: Logger;
  maxBackoffMs: number;
  /** True once the batch must not go on (its partitions were revoked). */
  abandoned(): boolean;
  /** Runs `work` while keeping the consumer polled (group membership) and the next batch filling. */
  polled<T>(work: Promise<T>): Promise<T>;
  onUnavailable(error: TributaryError): void;
  onAvailable(): void;
}

/** Writes with retry on SINK_UNAVAILABLE and bisection on SINK_ROW_REJECTED. */
export class SinkWrites {
  private backoffMs = 0;

  constructor(private readonly deps: SinkWritesDeps) {}

  /** Writes every row it can; returns the rows the store refused, each with the store's reason. */
  async writeTarget(
    target: string,
    rows: readonly SinkRow[],
  ): Promise<Array<{ row: SinkRow; detail: string }>> {
    if (rows.length === 0) return [];
    try {
      await this.writeRetrying(target, rows);
      return [];
    } catch (error) {
      if (!isTributaryError(error) || error.code !== 'TRIBUTARY_SINK_ROW_REJECTED') throw error;
      const [first] = rows;
      if (rows.length === 1 && first !== undefined) return [{ row: first, detail: describeError(error) }];
      this.deps.log.warn(
        { target, rows: rows.length },
        'the store refused a batch; splitting it to find the rows',
      );
      const [left, right] = splitInHalves(rows);
      return [...(await this.writeTarget(target, left)), ...(await this.writeTarget(target, right))];
    }
  }

  private async writeRetrying(target: string, rows: readonly SinkRow[]): Promise<void> {
    const request = { target, rows, dedupToken: dedupToken(target, rows) };
    for (;;) {
      if (this.deps.abandoned()) throw new FlushAbandoned();
      if (faultPoint('sink.insert')) return;
      const startedAt = performance.now();
      this.deps.metrics.writesInFlight.set(1);
      try {
        await this.deps.polled(this.deps.connector.write(request));
        this.deps.metrics.writeSeconds.observe({ target }, (performance.now() - startedAt) / 1000);
        this.backoffMs = 0;
        this.deps.onAvailable();
        return;
      } catch (error) {
        // Only the connector's retryable errors are retried; anything else stops the process.
        if (!isTributaryError(error) || !error.retryable) throw error;
        await this.backOff(target, error);
      } finally {
        this.deps.metrics.writesInFlight.set(0);
      }
    }
  }

  private async backOff(target: string, failure: TributaryError): Promise<void> {
    this.backoffMs = Math.min(this.deps.maxBackoffMs, this.backoffMs === 0 ? 100 : this.backoffMs * 2);
    this.deps.metrics.writeRetries.inc({ target });
    this.deps.onUnavailable(failure);
    this.deps.log.warn(
      { err: failure, target, backoffMs: this.backoffMs },
      'the store refused a write; consumption paused, retrying the same rows with the same token',
    );
    await this.deps.polled(new Promise((resolve) => setTimeout(resolve, this.backoffMs)));
  }
}

export function rowSource(sources: ReadonlyMap<string, Message>, row: SinkRow): Message | undefined {
  return sources.get(rowKey(row.topic, row.partition, row.offset));
}
