// One flush of a sink: decode the batch, skip what the store already holds, turn the rest into rows per
// target and source partition, and write each with retries; rows the store can never hold become dead
// letters. One write per source partition, so any later owner of the partition can redo it alone.
import {
  SerdeError,
  TributaryError,
  ValidationError,
  describeError,
  isTributaryError,
} from '../../errors.ts';
import { nextBackoffMs, sleep, withJitter } from '../../kafka/index.ts';
import type { Message, TopicPartitionOffset } from '../../kafka/index.ts';
import type { Logger } from '../../observability/index.ts';
import { UNDECODABLE_REASON } from '../processor/batch.ts';
import type { SinkCodecs } from './sink-codecs.ts';
import type { SinkBinding, SinkConnector, SinkRow } from './sink-definition.ts';
import type { SinkMetrics } from './sink-metrics.ts';
import { dedupToken, splitInHalves } from './sink-batch.ts';
import { faultPoint } from '../../testing/fault-points.ts';
import type { ResumePoint } from './sink-resume.ts';
import { isStored } from './sink-resume.ts';

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

/** The rows of one target from one source partition. */
export interface PartitionWrite {
  target: string;
  topic: string;
  partition: number;
  rows: SinkRow[];
  /** The record each row came from, by index: a row the store refuses is dead-lettered as its record. */
  sources: Message[];
  /** The token of the open intent this write repeats (its partition's replay); else derived from the rows. */
  token?: string | undefined;
}

export interface FlushPlan {
  /** By `target|topic/partition`, in the order first seen. */
  writes: Map<string, PartitionWrite>;
  rejections: Rejection[];
  /** Next offset to consume per partition: what the commit after this flush records. */
  nextOffsets: TopicPartitionOffset[];
}

export function partitionKeyOf(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

function rejectionFrom(error: unknown): { reason: string; detail: string } | undefined {
  if (error instanceof ValidationError) return { reason: error.reason, detail: error.detail };
  if (error instanceof SerdeError)
    return { reason: UNDECODABLE_REASON, detail: `${error.code}: ${describeError(error)}` };
  return undefined;
}

/** What a flush knows of one source partition, looked up once per run of its records. */
interface PartitionInFlush {
  topic: string;
  partition: number;
  key: string;
  bound: BoundTopic;
  point: ResumePoint | undefined;
  next: TopicPartitionOffset;
}

/**
 * Decides what each record becomes. A record the store already holds (its partition's resume point) is
 * skipped; its dead letter, if it had one, is produced again only if its offset was not committed yet,
 * since dead letters commit only with the offsets.
 */
export function planFlush(
  messages: readonly Message[],
  bound: ReadonlyMap<string, BoundTopic>,
  points: ReadonlyMap<string, ResumePoint>,
  codecs: SinkCodecs,
  connector: SinkConnector,
): FlushPlan & { skipped: Map<string, number> } {
  const plan = {
    writes: new Map<string, PartitionWrite>(),
    rejections: [] as Rejection[],
    skipped: new Map<string, number>(),
  };
  const partitions = new Map<string, PartitionInFlush>();
  // A batch comes in runs of one partition's records: its state is looked up once per run.
  let current: PartitionInFlush | undefined;
  let write: PartitionWrite | undefined;
  for (const message of messages) {
    const { topic, partition, offset } = message;
    if (current === undefined || current.partition !== partition || current.topic !== topic) {
      current = partitionInFlush(partitions, bound, points, topic, partition);
      write = undefined;
    }
    current.next.offset = offset + 1;
    const { point } = current;
    const target = current.bound;
    let row: SinkRow;
    try {
      const value = codecs.decode(topic, message.value ?? null);
      row = connector.encode({ binding: target.binding, topic, partition, offset, timestamp: 0, value });
    } catch (error) {
      const rejection = rejectionFrom(error);
      if (rejection === undefined) throw error;
      deadLetter(plan.rejections, message, current, rejection.reason, rejection.detail);
      continue;
    }
    const name = target.binding.target;
    if (isStored(point, offset)) {
      plan.skipped.set(name, (plan.skipped.get(name) ?? 0) + 1);
      const refused = point?.rejected.get(offset);
      if (refused !== undefined)
        deadLetter(plan.rejections, message, current, REJECTED_BY_STORE_REASON, refused);
      continue;
    }
    const replay = point?.replay;
    if (replay !== undefined && offset > replay.lastOffset)
      throw new TributaryError(
        'TRIBUTARY_INTERNAL_INVARIANT',
        `${current.key}: offset ${offset} in the flush that repeats ${replay.firstOffset}..${replay.lastOffset}`,
      );
    write ??= writeOf(plan.writes, name, current, replay?.token);
    write.rows.push(row);
    write.sources.push(message);
  }
  return { ...plan, nextOffsets: [...partitions.values()].map((p) => p.next) };
}

function partitionInFlush(
  partitions: Map<string, PartitionInFlush>,
  bound: ReadonlyMap<string, BoundTopic>,
  points: ReadonlyMap<string, ResumePoint>,
  topic: string,
  partition: number,
): PartitionInFlush {
  const key = partitionKeyOf(topic, partition);
  const known = partitions.get(key);
  if (known !== undefined) return known;
  const target = bound.get(topic);
  if (target === undefined)
    throw new TributaryError('TRIBUTARY_INTERNAL_INVARIANT', `consumed ${topic}, which no binding declares`);
  const entry = {
    topic,
    partition,
    key,
    bound: target,
    point: points.get(key),
    next: { topic, partition, offset: 0 },
  };
  partitions.set(key, entry);
  return entry;
}

/** The partition's write into `target`, created the first time one of its rows goes there. */
function writeOf(
  writes: Map<string, PartitionWrite>,
  target: string,
  source: PartitionInFlush,
  token: string | undefined,
): PartitionWrite {
  const writeKey = `${target}|${source.key}`;
  const known = writes.get(writeKey);
  if (known !== undefined) return known;
  const { topic, partition } = source;
  const write: PartitionWrite = { target, topic, partition, rows: [], sources: [], token };
  writes.set(writeKey, write);
  return write;
}

/** Dead-letters `message`, unless its partition's dead letters up to it were committed with its offset. */
function deadLetter(
  rejections: Rejection[],
  message: Message,
  source: PartitionInFlush,
  reason: string,
  detail: string,
): void {
  if (message.offset >= (source.point?.deadLettersFrom ?? 0))
    rejections.push({ message, deadLetterTopic: source.bound.deadLetterTopic, reason, detail });
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
  /** Throws FlushAbandoned unless this copy still owns the partition (checked before every attempt). */
  guard(topic: string, partition: number): Promise<void>;
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
    token = dedupToken(target, rows),
  ): Promise<Array<{ row: SinkRow; detail: string }>> {
    if (rows.length === 0) return [];
    try {
      await this.writeRetrying(target, rows, token);
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

  private async writeRetrying(target: string, rows: readonly SinkRow[], token: string): Promise<void> {
    const request = { target, rows, dedupToken: token };
    const [first] = rows;
    await this.retrying(target, async () => {
      if (first !== undefined) await this.deps.guard(first.topic, first.partition);
      if (faultPoint('sink.insert')) return;
      const startedAt = performance.now();
      this.deps.metrics.writesInFlight.set(1);
      try {
        await this.deps.connector.write(request);
      } finally {
        this.deps.metrics.writesInFlight.set(0);
      }
      this.deps.metrics.writeSeconds.observe({ target }, (performance.now() - startedAt) / 1000);
    });
  }

  /** Runs `attempt` until it succeeds, backing off on the store's retryable errors. */
  async retrying<T>(target: string, attempt: () => Promise<T>): Promise<T> {
    for (;;) {
      if (this.deps.abandoned()) throw new FlushAbandoned();
      try {
        const result = await this.deps.polled(attempt());
        this.backoffMs = 0;
        this.deps.onAvailable();
        return result;
      } catch (error) {
        // Only the connector's retryable errors are retried; anything else stops the process.
        if (!isTributaryError(error) || !error.retryable) throw error;
        await this.backOff(target, error);
      }
    }
  }

  private async backOff(target: string, failure: TributaryError): Promise<void> {
    this.backoffMs = nextBackoffMs(this.backoffMs, this.deps.maxBackoffMs);
    const waitMs = withJitter(this.backoffMs);
    this.deps.metrics.writeRetries.inc({ target });
    this.deps.onUnavailable(failure);
    this.deps.log.warn(
      { err: failure, target, backoffMs: waitMs },
      'the store refused a write; consumption paused, retrying the same rows with the same token',
    );
    await this.deps.polled(sleep(waitMs));
  }
}
