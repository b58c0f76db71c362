// The sink loop: consume into a batch and flush it at a checkpoint (rows, bytes or age): its rows written
// through the store's ledger, then its offsets and dead letters committed in one Kafka transaction
// (sink-checkpoint.ts). On every assignment the store's ledger and tables say what they already hold
// (sink-partition-sync.ts, sink-resume.ts), so a source offset is written exactly once even after an
// insert that landed in part: a previous owner's open intent is written again first (sink-replay.ts).
// Slow work is awaited with the consumer polled (sink-polled-wait.ts); a store that refuses writes pauses
// consumption until it takes them again (sink-store-gate.ts).
import { isTributaryError } from '../../errors.ts';
import type { Message } from '../../kafka/index.ts';
import { sleep } from '../../kafka/index.ts';
import type { HealthStatus } from '../../observability/index.ts';
import type { BatchLimits } from './sink-batch.ts';
import { PendingBatch } from './sink-batch.ts';
import type { SinkCopyDeps } from './sink-checkpoint.ts';
import { SinkCheckpoint } from './sink-checkpoint.ts';
import { partitionKeyOf } from './sink-flush.ts';
import { syncAssignment } from './sink-partition-sync.ts';
import { PolledWait } from './sink-polled-wait.ts';
import { allReplaysFetched, flushReplays, replaying } from './sink-replay.ts';
import type { ResumePoint } from './sink-resume.ts';
import { StoreGate } from './sink-store-gate.ts';

/** The copy's identity, clients, store and bindings (sink-checkpoint.ts), and its batch limits. */
export interface SinkLoopDeps extends SinkCopyDeps {
  limits: BatchLimits & { maxRetryBackoffMs: number; maxMessageBytes: number };
}

export class SinkLoop {
  private stopping = false;
  private epoch = -1;
  private points = new Map<string, ResumePoint>();
  private readonly pending = new PendingBatch<Message>();
  private readonly gate: StoreGate;
  private lastTurn = Date.now();
  /** Last time the loop committed, or had nothing to fetch nor commit: what liveness watches. */
  private lastProgress = Date.now();
  private readonly waits: PolledWait;
  private readonly checkpoint: SinkCheckpoint;
  /** Offsets last committed per partition, to notice positions that moved past transaction markers only. */
  private committedAt = new Map<string, number>();
  private lastCommitAt = 0;

  constructor(private readonly deps: SinkLoopDeps) {
    const { consumer, log, limits } = deps;
    this.gate = new StoreGate(consumer, log);
    const turn = (): Promise<void> => this.turnWhileWaiting();
    this.waits = new PolledWait({ log, maxRetryBackoffMs: limits.maxRetryBackoffMs, turn });
    this.checkpoint = new SinkCheckpoint({
      ...deps,
      waits: this.waits,
      gate: this.gate,
      abandoned: () => this.deps.consumer.assignmentEpoch !== this.epoch,
      onFenced: () => (this.epoch = -1),
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
      if (replaying(this.points)) {
        if (this.replayFetched()) await this.flushReplays();
      } else if (this.pending.isDue(this.deps.limits, Date.now()) || this.onlyMarkersAhead())
        await this.flush();
    }
    if (this.epoch !== this.deps.consumer.assignmentEpoch) return;
    // A replay not fetched in full is left to the next owner: nothing of it is committed.
    if (replaying(this.points) && this.replayFetched()) await this.flushReplays();
    if (this.pending.size > 0 && !replaying(this.points)) await this.flush();
  }

  /** True once every range to replay is in the pending batch (sink-replay.ts). */
  private replayFetched(): boolean {
    return allReplaysFetched(this.points, this.deps.consumer.positions());
  }

  /** Writes a previous owner's open intents again as they were; the records after them stay pending. */
  private flushReplays(): Promise<void> {
    const flush = (messages: Message[]): Promise<void> => this.flushMessages(messages, new Map());
    return flushReplays({ points: this.points, pending: this.pending, log: this.deps.log, flush });
  }

  /** After an assignment change: drop the batch, then sync the new assignment (sink-partition-sync.ts). */
  private async syncIfRebalanced(): Promise<void> {
    const { consumer, log } = this.deps;
    if (consumer.assignmentEpoch === this.epoch) return;
    this.pending.clear();
    const retryBackoffMs = Math.min(this.deps.limits.maxRetryBackoffMs, 1000);
    const synced = await syncAssignment({ ...this.deps, gate: this.gate, retryBackoffMs });
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

  private async consumeMore(): Promise<void> {
    // A replay's range is fetched whole, whatever the batch limit: it is written as the insert it was.
    const limit = replaying(this.points) ? 10_000 : this.deps.limits.maxBatchRows - this.pending.size;
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

  /** A turn while slow work is awaited: the group keeps us, and the next batch fills (bounded). */
  private async turnWhileWaiting(): Promise<void> {
    this.lastTurn = Date.now();
    if (this.pending.size >= this.deps.limits.maxBatchRows || this.gate.isUnavailable) this.gate.pause();
    await this.consumeMore();
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

  /** Writes `messages` and commits them (sink-checkpoint.ts), then notes what was committed. */
  private async flushMessages(messages: Message[], positions: ReadonlyMap<string, number>): Promise<void> {
    try {
      const committed = await this.checkpoint.flush(messages, positions, this.points, this.epoch);
      if (committed === undefined) return;
      this.lastCommitAt = Date.now();
      this.lastProgress = this.lastCommitAt;
      for (const { topic, partition, offset } of committed)
        this.committedAt.set(partitionKeyOf(topic, partition), offset);
    } finally {
      this.deps.metrics.pendingRows.set(this.pending.size);
      this.gate.resumeIfPaused();
    }
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
