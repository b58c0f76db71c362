// The sink loop: consume into a batch, flush it at a checkpoint (rows, bytes or age), record the
// batch's writes in the store's ledger (intent), write each target's rows per source partition and
// await them, record them done, then commit the offsets together with the batch's dead letters in one
// Kafka transaction. On every assignment the store's ledger and tables say what they already hold
// (sink-resume.ts), so a source offset is written exactly once even after an insert that landed in
// part; a store that refuses writes pauses consumption until it takes them again.
import { TributaryError, isTributaryError } from '../../errors.ts';
import type {
  InputConsumer,
  Message,
  TopicPartitionOffset,
  TransactionalProducer,
} from '../../kafka/index.ts';
import { replaceableAfterFailedAbort, sleep } from '../../kafka/index.ts';
import type { HealthStatus, Logger } from '../../observability/index.ts';
import { deadLetterFor, mergePositions } from './sink-commit-records.ts';
import { StoreGate } from './sink-store-gate.ts';
import type { BatchLimits } from './sink-batch.ts';
import { PendingBatch, dedupToken } from './sink-batch.ts';
import { faultPoint } from '../../testing/fault-points.ts';
import type { SinkCodecs } from './sink-codecs.ts';
import type { SinkConnector } from './sink-definition.ts';
import type { SinkMetrics } from './sink-metrics.ts';
import type { BoundTopic, FlushPlan, PartitionWrite } from './sink-flush.ts';
import type { LedgerEntry, ResumePoint } from './sink-resume.ts';
import { committedThrough, replayFetched } from './sink-resume.ts';
import { syncAssignment } from './sink-partition-sync.ts';
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
  limits: BatchLimits & { maxRetryBackoffMs: number; maxMessageBytes: number };
}

const POLL_STEP_MS = 200;

export class SinkLoop {
  private stopping = false;
  private epoch = -1;
  private points = new Map<string, ResumePoint>();
  private readonly pending = new PendingBatch<Message>();
  private readonly gate: StoreGate;
  private lastTurn = Date.now();
  /** Last time the loop committed, or had nothing to fetch nor commit: what liveness watches. */
  private lastProgress = Date.now();
  private readonly writes: SinkWrites;
  /** Offsets last committed per partition, to notice positions that moved past transaction markers only. */
  private committedAt = new Map<string, number>();
  private lastCommitAt = 0;

  constructor(private readonly deps: SinkLoopDeps) {
    this.gate = new StoreGate(deps.consumer, deps.log);
    this.writes = new SinkWrites({
      connector: deps.connector,
      metrics: deps.metrics,
      log: deps.log,
      maxBackoffMs: deps.limits.maxRetryBackoffMs,
      abandoned: () => this.deps.consumer.assignmentEpoch !== this.epoch,
      polled: (work) => this.polled(work),
      guard: (topic, partition) => this.guard([{ topic, partition }]),
      onUnavailable: (error) => this.gate.markUnavailable(error),
      onAvailable: () => this.gate.markAvailable(),
    });
  }

  get lastTurnAt(): number {
    return this.lastTurn;
  }

  /**
   * When the loop last committed, or turned with nothing pending and no lag. Neither a loop stuck retrying
   * a commit nor one that turns while its partitions have lag but nothing arrives advances it.
   */
  get lastProgressAt(): number {
    return this.lastProgress;
  }

  /** The store's outage while it refused within `withinMs`: an excuse for no progress, not a stale flag. */
  storeOutage(withinMs: number): string | undefined {
    return this.gate.outageWithin(withinMs);
  }

  /** Flush and commit what is pending, then return from run(). */
  stop(): void {
    this.stopping = true;
  }

  /** Why the store is not taking writes, or undefined when it is. */
  get storeProblem(): string | undefined {
    return this.gate.problem;
  }

  async run(): Promise<void> {
    while (!this.stopping) {
      this.lastTurn = Date.now();
      if (this.pending.size === 0 && !this.lagging()) this.lastProgress = this.lastTurn;
      await this.syncIfRebalanced();
      if (this.epoch !== this.deps.consumer.assignmentEpoch) continue;
      await this.consumeMore();
      if (this.replaying()) {
        if (this.replayFetched()) await this.flushReplays();
      } else if (this.pending.isDue(this.deps.limits, Date.now()) || this.onlyMarkersAhead())
        await this.flush();
    }
    if (this.epoch !== this.deps.consumer.assignmentEpoch) return;
    // A replay not fetched in full is left to the next owner: nothing of it is committed.
    if (this.replaying() && this.replayFetched()) await this.flushReplays();
    if (this.pending.size > 0 && !this.replaying()) await this.flush();
  }

  /** True while an open intent of a previous owner has not been written again. */
  private replaying(): boolean {
    for (const point of this.points.values()) if (point.replay !== undefined) return true;
    return false;
  }

  /** True once every range to replay is in the pending batch. */
  private replayFetched(): boolean {
    const positions = this.deps.consumer.positions();
    for (const [key, point] of this.points) if (!replayFetched(point, positions.get(key))) return false;
    return true;
  }

  /**
   * Writes each open intent of a previous owner again as that same insert (its offsets, its token) and
   * commits those partitions through its end; the records after it stay pending for the next flush.
   */
  private async flushReplays(): Promise<void> {
    const replays = new Map<string, number>();
    for (const [key, point] of this.points)
      if (point.replay !== undefined) replays.set(key, point.replay.lastOffset);
    const upTo = (m: Message): number | undefined => replays.get(partitionKeyOf(m.topic, m.partition));
    const messages = this.pending.takeWhere((m) => m.offset <= (upTo(m) ?? -1));
    this.deps.log.info(
      { partitions: [...replays.keys()], records: messages.length },
      "writing a previous owner's unfinished inserts again, as they were",
    );
    if (messages.length > 0) await this.flushMessages(messages, new Map());
    // A range the log no longer holds (retention) leaves nothing to repeat: it is not waited for again.
    for (const key of replays.keys()) {
      const point = this.points.get(key);
      if (point !== undefined) this.points.set(key, { ...point, replay: undefined });
    }
  }

  /** After an assignment change: drop the batch, then sync the new assignment (sink-partition-sync.ts). */
  private async syncIfRebalanced(): Promise<void> {
    const { consumer, connector, writer, bound, log } = this.deps;
    if (consumer.assignmentEpoch === this.epoch) return;
    this.pending.clear();
    const retryBackoffMs = Math.min(this.deps.limits.maxRetryBackoffMs, 1000);
    const synced = await syncAssignment({
      consumer,
      connector,
      writer,
      bound,
      gate: this.gate,
      log,
      retryBackoffMs,
    });
    if (synced === undefined) return;
    this.points = synced.points;
    this.committedAt = synced.committedAt;
    this.epoch = synced.epoch;
    // The consumer keeps its pause across rebalances; lift it if the store is back.
    this.gate.resumeIfPaused();
    this.deps.metrics.assignedPartitions.set(synced.positions.length);
    log.info(
      { partitions: synced.positions.length, positions: synced.positions },
      "positions synced from the store's ledger",
    );
  }

  /** Throws FlushAbandoned unless this copy holds the store's latest claim on the partitions. */
  private async guard(partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
    const claimed = partitions.map((p) => ({ ...p, target: '', committed: -1 }));
    if (!(await this.deps.connector.holdsClaims(this.deps.writer, claimed))) throw new FlushAbandoned();
  }

  private async consumeMore(): Promise<void> {
    // A replay's range is fetched whole, whatever the batch limit: it is written as the insert it was.
    const limit = this.replaying() ? 10_000 : this.deps.limits.maxBatchRows - this.pending.size;
    const room = Math.max(1, Math.min(10_000, limit));
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
    // Taken together: every record handed out so far is in this batch or an earlier, written one.
    const positions = this.deps.consumer.positions();
    await this.flushMessages(this.pending.take(), positions);
  }

  /** Writes `messages` and commits them; `positions` (the consumer's) also commit partitions they skip. */
  private async flushMessages(messages: Message[], positions: ReadonlyMap<string, number>): Promise<void> {
    const epoch = this.epoch;
    try {
      await this.retryTransient('fetching writer schemas', () =>
        this.deps.codecs.prepare(messages.map((m) => ({ topic: m.topic, value: m.value ?? null }))),
      );
      const plan = planFlush(messages, this.deps.bound, this.points, this.deps.codecs, this.deps.connector);
      const recordsNext = plan.nextOffsets;
      // Never behind what was committed: a refill re-reads records whose dead letters are committed.
      plan.nextOffsets = mergePositions(plan.nextOffsets, positions).map((o) => ({
        ...o,
        offset: Math.max(
          o.offset,
          this.points.get(partitionKeyOf(o.topic, o.partition))?.deadLettersFrom ?? 0,
        ),
      }));
      for (const [target, count] of plan.skipped)
        this.deps.metrics.rows.inc({ target, outcome: 'already_stored' }, count);
      await this.writeAll(plan);
      await this.commit(plan, epoch);
      this.advancePoints(recordsNext, plan.nextOffsets);
    } catch (error) {
      if (!(error instanceof FlushAbandoned)) throw error;
      this.deps.metrics.commits.inc({ outcome: 'skipped_rebalanced' });
      this.deps.log.info('partitions moved during a flush; the new owner resumes from what the store holds');
    } finally {
      this.deps.metrics.pendingRows.set(this.pending.size);
      this.gate.resumeIfPaused();
    }
  }

  /** Intent in the ledger, each partition's rows, then done with the offsets the store refused. */
  private async writeAll(plan: FlushPlan): Promise<void> {
    const writes = [...plan.writes.values()];
    if (writes.length === 0) return;
    const { connector, writer } = this.deps;
    const entries = writes.map((write) => this.intentFor(write));
    await this.writes.retrying('ledger', async () => {
      await this.guard(writes);
      await connector.recordBatches('intent', writer, entries);
    });
    for (const [index, write] of writes.entries()) {
      const entry = entries[index] as LedgerEntry;
      const refused = await this.writes.writeTarget(write.target, write.rows, entry.token);
      for (const { row, detail } of refused) {
        const message = rowSource(plan.sources, row);
        const bound = message === undefined ? undefined : this.deps.bound.get(message.topic);
        if (message === undefined || bound === undefined) continue;
        entry.rejected.push({ offset: row.offset, detail });
        plan.rejections.push({
          message,
          deadLetterTopic: bound.deadLetterTopic,
          reason: REJECTED_BY_STORE_REASON,
          detail,
        });
      }
      entry.rows = write.rows.length - entry.rejected.length;
      this.deps.metrics.rows.inc({ target: write.target, outcome: 'written' }, entry.rows);
    }
    await this.writes.retrying('ledger', () => connector.recordBatches('done', writer, entries));
  }

  private intentFor(write: PartitionWrite): LedgerEntry {
    const key = partitionKeyOf(write.topic, write.partition);
    const point = this.points.get(key);
    const seq = point?.nextSeq ?? 0;
    if (point !== undefined) this.points.set(key, { ...point, nextSeq: seq + 1 });
    const offsets = write.rows.map((row) => row.offset);
    return {
      target: write.target,
      topic: write.topic,
      partition: write.partition,
      seq,
      firstOffset: Math.min(...offsets),
      lastOffset: Math.max(...offsets),
      rows: write.rows.length,
      token: write.token ?? dedupToken(write.target, write.rows),
      rejected: [],
    };
  }

  /** Dead letters and offsets in one transaction: both or neither, retried until they commit. */
  private async commit(plan: FlushPlan, epoch: number): Promise<void> {
    const { producer, consumer, metrics } = this.deps;
    faultPoint('sink.commit');
    const deadLetters = plan.rejections.map((r) =>
      deadLetterFor(r, this.deps.name, this.deps.limits.maxMessageBytes, this.deps.codecs),
    );
    await this.retryTransient('committing offsets', async () => {
      if (consumer.assignmentEpoch !== epoch) throw new FlushAbandoned();
      try {
        await producer.begin();
        for (const message of deadLetters) await producer.produce(message);
        await producer.sendOffsets(plan.nextOffsets, consumer.raw);
        await producer.commit();
      } catch (error) {
        if (producer.fencedByTimeout(error)) {
          // The coordinator's own fence: what a restart would do, in process. The store's ledger and
          // Kafka's committed offsets say where each partition resumes, whichever way the commit ended.
          this.deps.log.warn(
            { err: error },
            'the coordinator timed the transaction out (the broker was away longer than ' +
              'transaction.timeout.ms); replacing the producer and resuming from what the store holds',
          );
          await producer.replaceAfterFatal();
          this.epoch = -1;
          throw new FlushAbandoned();
        }
        // Retried only after an abort that worked; a failed abort or a fatal error stops the process,
        // whose restart fences this producer and resumes from the ledger.
        if (!isTributaryError(error) || !error.retryable) throw error;
        try {
          await producer.abort();
        } catch (abortError) {
          // The coordinator timed the transaction out during a broker outage (or the instance failed on
          // its own): nothing of it committed, so a new producer takes over and the commit is retried.
          if (!replaceableAfterFailedAbort(abortError, error))
            throw new TributaryError(
              'TRIBUTARY_SINK_TRANSACTION_STUCK',
              `the commit failed (${error.message}) and the transaction could not be aborted; stopping`,
              { cause: abortError },
            );
          this.deps.log.warn({ err: abortError }, 'the abort failed for good; replacing the producer');
          await producer.replaceAfterFatal();
        }
        throw error;
      }
    });
    metrics.commits.inc({ outcome: 'committed' });
    this.lastCommitAt = Date.now();
    this.lastProgress = this.lastCommitAt;
    for (const { topic, partition, offset } of plan.nextOffsets)
      this.committedAt.set(partitionKeyOf(topic, partition), offset);
    for (const rejection of plan.rejections) {
      const target = this.deps.bound.get(rejection.message.topic)?.binding.target ?? '';
      metrics.rows.inc({ target, outcome: 'dead_letter' });
    }
  }

  private advancePoints(
    recordsNext: readonly TopicPartitionOffset[],
    committed: readonly TopicPartitionOffset[],
  ): void {
    const next = new Map(recordsNext.map((o) => [partitionKeyOf(o.topic, o.partition), o.offset]));
    for (const { topic, partition, offset } of committed) {
      const key = partitionKeyOf(topic, partition);
      const point = this.points.get(key);
      if (point !== undefined) this.points.set(key, committedThrough(point, next.get(key) ?? 0, offset));
    }
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
      if (this.pending.size >= this.deps.limits.maxBatchRows || this.gate.isUnavailable) this.gate.pause();
      await this.consumeMore();
    }
    return work;
  }

  /** True while an assigned partition has records past the committed offset (librdkafka's statistics). */
  private lagging(): boolean {
    for (const lag of this.deps.consumer.lag().values()) if (lag > 0) return true;
    return false;
  }

  /** Readiness from the loop's side; the runner adds group membership and lag. */
  health(): HealthStatus | undefined {
    const problem = this.storeProblem;
    return problem === undefined ? undefined : { ok: false, reason: problem };
  }
}
