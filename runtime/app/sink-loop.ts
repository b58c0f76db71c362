// The sink loop: consume into a batch, flush it at a checkpoint (rows, bytes or age), write each
// target's rows and await them, then commit the offsets together with the batch's dead letters in one
// Kafka transaction. On every assignment the store is asked what it already holds, so a source offset
// is never written twice; a store that refuses writes pauses consumption until it takes them again.
import type { TributaryError } from '../errors.ts';
import { isTributaryError } from '../errors.ts';
import type {
  InputConsumer,
  Message,
  OutgoingMessage,
  TopicPartitionOffset,
  TransactionalProducer,
} from '../kafka/index.ts';
import type { HealthStatus, Logger } from '../observability/index.ts';
import type { BatchLimits } from './sink-batch.ts';
import { PendingBatch } from './sink-batch.ts';
import { faultPoint } from '../testing/fault-points.ts';
import type { SinkCodecs } from './sink-codecs.ts';
import type { SinkConnector } from './sink-definition.ts';
import type { SinkMetrics } from './sink-metrics.ts';
import type { BoundTopic, FlushPlan, Rejection } from './sink-flush.ts';
import {
  FlushAbandoned,
  REJECTED_BY_STORE_REASON,
  SinkWrites,
  partitionKeyOf,
  planFlush,
  rowSource,
} from './sink-flush.ts';

export interface SinkLoopDeps {
  name: string;
  consumer: InputConsumer;
  producer: TransactionalProducer;
  connector: SinkConnector;
  codecs: SinkCodecs;
  /** Physical topic → its binding and dead-letter topic. */
  bound: ReadonlyMap<string, BoundTopic>;
  metrics: SinkMetrics;
  log: Logger;
  limits: BatchLimits & { maxRetryBackoffMs: number };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const POLL_STEP_MS = 200;

export class SinkLoop {
  private stopping = false;
  private epoch = -1;
  private stored = new Map<string, number>();
  private readonly pending = new PendingBatch<Message>();
  private paused = false;
  private unavailable: { since: number; reason: string } | undefined;
  private lastTurn = Date.now();
  private readonly writes: SinkWrites;
  /** Offsets last committed per partition, to notice positions that moved past transaction markers only. */
  private committedAt = new Map<string, number>();
  private lastCommitAt = 0;

  constructor(private readonly deps: SinkLoopDeps) {
    this.writes = new SinkWrites({
      connector: deps.connector,
      metrics: deps.metrics,
      log: deps.log,
      maxBackoffMs: deps.limits.maxRetryBackoffMs,
      abandoned: () => this.deps.consumer.assignmentEpoch !== this.epoch,
      polled: (work) => this.polled(work),
      onUnavailable: (error) => this.markUnavailable(error),
      onAvailable: () => this.markAvailable(),
    });
  }

  get lastTurnAt(): number {
    return this.lastTurn;
  }

  /** Flush and commit what is pending, then return from run(). */
  stop(): void {
    this.stopping = true;
  }

  /** Why the store is not taking writes, or undefined when it is. */
  get storeProblem(): string | undefined {
    if (this.unavailable === undefined) return undefined;
    const seconds = Math.round((Date.now() - this.unavailable.since) / 1000);
    return `store unavailable for ${seconds} s: ${this.unavailable.reason}`;
  }

  async run(): Promise<void> {
    while (!this.stopping) {
      this.lastTurn = Date.now();
      await this.syncIfRebalanced();
      if (this.epoch !== this.deps.consumer.assignmentEpoch) continue;
      await this.consumeMore();
      if (this.pending.isDue(this.deps.limits, Date.now()) || this.onlyMarkersAhead()) await this.flush();
    }
    if (this.pending.size > 0 && this.epoch === this.deps.consumer.assignmentEpoch) await this.flush();
  }

  /** After an assignment change: drop the batch, learn what the store holds, position every partition. */
  private async syncIfRebalanced(): Promise<void> {
    const { consumer, connector, bound, log } = this.deps;
    const epoch = consumer.assignmentEpoch;
    if (epoch === this.epoch) return;
    this.pending.clear();
    const assignment = [...consumer.assignment];
    try {
      const targets = assignment.map((tp) => ({ ...tp, target: bound.get(tp.topic)?.binding.target ?? '' }));
      const stored = await connector.storedOffsets(targets);
      const committed = await consumer.committed(assignment);
      const positions = committed.map((c): TopicPartitionOffset => {
        const held = stored.get(partitionKeyOf(c.topic, c.partition));
        // Behind what was committed (a store emptied or restored from a backup): fill it again.
        const refill = held !== undefined && (c.offset < 0 || held + 1 < c.offset);
        return { topic: c.topic, partition: c.partition, offset: refill ? held + 1 : c.offset };
      });
      await consumer.seekTo(positions);
      if (consumer.assignmentEpoch !== epoch) return;
      this.stored = stored;
      this.committedAt = new Map(positions.map((p) => [partitionKeyOf(p.topic, p.partition), p.offset]));
      this.epoch = epoch;
      this.paused = false;
      this.deps.metrics.assignedPartitions.set(assignment.length);
      log.info({ partitions: assignment.length, stored: Object.fromEntries(stored) }, 'positions synced');
    } catch (error) {
      if (!isTributaryError(error) || !error.retryable) throw error;
      this.markUnavailable(error);
      log.warn({ err: error }, 'could not read positions from the store; retrying');
      await sleep(Math.min(this.deps.limits.maxRetryBackoffMs, 1000));
    }
  }

  private async consumeMore(): Promise<void> {
    const room = Math.max(1, Math.min(10_000, this.deps.limits.maxBatchRows - this.pending.size));
    try {
      const messages = await this.deps.consumer.consumeBatch(room);
      this.pending.add(messages, Date.now());
      this.deps.metrics.pendingRows.set(this.pending.size);
    } catch (error) {
      if (!isTributaryError(error) || !error.retryable) throw error;
      this.deps.log.warn({ err: error }, 'consume failed; retrying');
      await sleep(200);
    }
  }

  /** Nothing pending, but a position moved past a transaction marker: commit it, or lag never reaches 0. */
  private onlyMarkersAhead(): boolean {
    if (this.pending.size > 0 || Date.now() - this.lastCommitAt < this.deps.limits.flushIntervalMs)
      return false;
    for (const [key, offset] of this.deps.consumer.positions())
      if (offset > (this.committedAt.get(key) ?? -1)) return true;
    return false;
  }

  private async flush(): Promise<void> {
    const epoch = this.epoch;
    // Taken together: every record handed out so far is in this batch or an earlier, written one.
    const positions = this.deps.consumer.positions();
    const messages = this.pending.take();
    try {
      await this.retryTransient('fetching writer schemas', () =>
        this.deps.codecs.prepare(messages.map((m) => ({ topic: m.topic, value: m.value ?? null }))),
      );
      const plan = planFlush(messages, this.deps.bound, this.stored, this.deps.codecs, this.deps.connector);
      plan.nextOffsets = mergePositions(plan.nextOffsets, positions);
      for (const [target, count] of plan.skipped)
        this.deps.metrics.rows.inc({ target, outcome: 'already_stored' }, count);
      await this.writeAll(plan);
      await this.commit(plan, epoch);
    } catch (error) {
      if (!(error instanceof FlushAbandoned)) throw error;
      this.deps.metrics.commits.inc({ outcome: 'skipped_rebalanced' });
      this.deps.log.info('partitions moved during a flush; the new owner resumes from what the store holds');
    } finally {
      this.deps.metrics.pendingRows.set(this.pending.size);
      this.resumeIfPaused();
    }
  }

  private async writeAll(plan: FlushPlan): Promise<void> {
    for (const [target, rows] of plan.rowsByTarget) {
      const refused = await this.writes.writeTarget(target, rows);
      const refusedKeys = new Set<string>();
      for (const { row, detail } of refused) {
        const message = rowSource(plan.sources, row);
        const bound = message === undefined ? undefined : this.deps.bound.get(message.topic);
        if (message === undefined || bound === undefined) continue;
        refusedKeys.add(`${row.partition}/${row.offset}`);
        plan.rejections.push({
          message,
          deadLetterTopic: bound.deadLetterTopic,
          reason: REJECTED_BY_STORE_REASON,
          detail,
        });
      }
      for (const row of rows) {
        const key = partitionKeyOf(row.topic, row.partition);
        this.stored.set(key, Math.max(this.stored.get(key) ?? -1, row.offset));
      }
      this.deps.metrics.rows.inc({ target, outcome: 'written' }, rows.length - refusedKeys.size);
    }
  }

  /** Dead letters and offsets in one transaction: both or neither, retried until they commit. */
  private async commit(plan: FlushPlan, epoch: number): Promise<void> {
    const { producer, consumer, metrics } = this.deps;
    faultPoint('sink.commit');
    const deadLetters = plan.rejections.map((r) => this.deadLetterMessage(r));
    await this.retryTransient('committing offsets', async () => {
      if (consumer.assignmentEpoch !== epoch) throw new FlushAbandoned();
      try {
        await producer.begin();
        for (const message of deadLetters) await producer.produce(message);
        await producer.sendOffsets(plan.nextOffsets, consumer.raw);
        await producer.commit();
      } catch (error) {
        await producer.abort().catch(() => undefined);
        throw error;
      }
    });
    metrics.commits.inc({ outcome: 'committed' });
    this.lastCommitAt = Date.now();
    for (const { topic, partition, offset } of plan.nextOffsets)
      this.committedAt.set(partitionKeyOf(topic, partition), offset);
    for (const rejection of plan.rejections) {
      const target = this.deps.bound.get(rejection.message.topic)?.binding.target ?? '';
      metrics.rows.inc({ target, outcome: 'dead_letter' });
    }
  }

  private deadLetterMessage(rejection: Rejection): OutgoingMessage {
    const { message } = rejection;
    const key = message.key === undefined || message.key === null ? null : Buffer.from(message.key);
    const value = this.deps.codecs.encodeDeadLetter(rejection.deadLetterTopic, {
      reason: rejection.reason,
      detail: rejection.detail.slice(0, 2000),
      source_topic: message.topic,
      source_partition: message.partition,
      source_offset: message.offset,
      original_key: key,
      original_value: message.value ?? null,
      processor: this.deps.name,
      failed_at: Date.now(),
    });
    return { topic: rejection.deadLetterTopic, key, value };
  }

  private async retryTransient<T>(what: string, work: () => Promise<T>): Promise<T> {
    let backoffMs = 100;
    for (;;) {
      try {
        return await this.polled(work());
      } catch (error) {
        if (!isTributaryError(error) || !error.retryable) throw error;
        this.deps.log.warn({ err: error, backoffMs }, `${what} failed; retrying`);
        await this.polled(sleep(backoffMs));
        backoffMs = Math.min(this.deps.limits.maxRetryBackoffMs, backoffMs * 2);
      }
    }
  }

  /** Awaits `work` while polling the consumer: the group keeps us, and the next batch fills (bounded). */
  private async polled<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    const watched = work.then(
      () => (settled = true),
      () => (settled = true),
    );
    while (!settled) {
      await Promise.race([watched, sleep(POLL_STEP_MS)]);
      if (settled) break;
      this.lastTurn = Date.now();
      if (this.pending.size >= this.deps.limits.maxBatchRows || this.unavailable !== undefined) this.pause();
      await this.consumeMore();
    }
    return work;
  }

  private pause(): void {
    if (this.paused) return;
    this.deps.consumer.pause();
    this.paused = true;
  }

  private resumeIfPaused(): void {
    if (!this.paused || this.unavailable !== undefined) return;
    this.deps.consumer.resume();
    this.paused = false;
  }

  private markUnavailable(error: TributaryError): void {
    this.unavailable = { since: this.unavailable?.since ?? Date.now(), reason: error.message.slice(0, 300) };
    this.pause();
  }

  private markAvailable(): void {
    if (this.unavailable === undefined) return;
    this.deps.log.info('the store takes writes again; resuming consumption');
    this.unavailable = undefined;
  }

  /** Readiness from the loop's side; the runner adds group membership and lag. */
  health(): HealthStatus | undefined {
    const problem = this.storeProblem;
    return problem === undefined ? undefined : { ok: false, reason: problem };
  }
}

/** Next offsets to commit: past each batch record, and past markers the consumer has already skipped. */
function mergePositions(
  fromRecords: readonly TopicPartitionOffset[],
  positions: ReadonlyMap<string, number>,
): TopicPartitionOffset[] {
  const merged = new Map(fromRecords.map((o) => [partitionKeyOf(o.topic, o.partition), { ...o }]));
  for (const [key, offset] of positions) {
    const current = merged.get(key);
    if (current !== undefined) current.offset = Math.max(current.offset, offset);
    else {
      const slash = key.lastIndexOf('/');
      merged.set(key, { topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)), offset });
    }
  }
  return [...merged.values()];
}
