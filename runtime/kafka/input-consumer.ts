// Promise API over a read_committed group consumer: batches, rebalance tracking, rewind, lag from stats.
import type {
  LibrdKafkaError,
  Message,
  RdKafkaConsumer,
  TopicPartition,
  TopicPartitionOffset,
} from './librdkafka.ts';
import { TributaryError } from '../errors.ts';
import { ERR, KafkaConsumer, call } from './librdkafka.ts';
import type { ConsumerSettings } from './client-config.ts';
import { consumerConfig } from './client-config.ts';
import { sleep } from './backoff.ts';
import type { Logger } from '../observability/index.ts';
import { GroupJoinWatch } from './group-join-watch.ts';
import type { GroupStats } from './group-join-watch.ts';

const OFFSET_BEGINNING = -2;
// How often servingRebalances polls while records keep arriving (they are dropped, so no hurry).
const SERVE_STEP_MS = 100;
const END_QUERY_TIMEOUT_MS = 5000;
const UNSETTLED_WARN_MS = 30_000;

export interface InputConsumerOptions {
  /** How long one committed-offsets or seek call may wait for the broker. Default 30 000. */
  operationTimeoutMs?: number;
  /** Where changes of the group membership's phase are reported (and a member unsettled for long). */
  log?: Logger;
}

export interface RebalanceListener {
  onAssigned?(partitions: TopicPartition[]): void;
  onRevoked?(partitions: TopicPartition[]): void;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/** A partition's entry in librdkafka's statistics (STATISTICS.md), the fields lag is made of. */
export interface PartitionStats {
  consumer_lag?: number;
  ls_offset?: number;
  hi_offset?: number;
  app_offset?: number;
  committed_offset?: number;
}

/**
 * Records behind the partition's end: from the last stable offset (read_committed) back to what this
 * copy has consumed or committed, whichever is further. librdkafka's own consumer_lag counts from the
 * committed offset it knows, which offsets committed through a transaction (sendOffsetsToTransaction)
 * never update: it stayed at the lag of the assignment, so a copy restarted on a large backlog never
 * became ready. Undefined while the partition's offsets are not known yet.
 */
export function lagFromStats(stats: PartitionStats): number | undefined {
  const end = stats.ls_offset !== undefined && stats.ls_offset >= 0 ? stats.ls_offset : stats.hi_offset;
  const done = Math.max(stats.app_offset ?? -1, stats.committed_offset ?? -1);
  if (end === undefined || end < 0) return undefined;
  if (done < 0)
    return stats.consumer_lag !== undefined && stats.consumer_lag >= 0 ? stats.consumer_lag : undefined;
  return Math.max(0, end - done);
}

export class InputConsumer {
  readonly raw: RdKafkaConsumer;
  private assigned: TopicPartition[] = [];
  private epoch = 0;
  private joined = false;
  private positionUncommitted = false;
  private pausedMode = false;
  /** Partitions this consumer paused in librdkafka and has not resumed since, assigned or not. */
  private readonly pausedInLibrdkafka = new Map<string, TopicPartition>();
  private readonly lagByPartition = new Map<string, number>();
  /** Last stable offset per assigned `topic/partition` as the broker answered it (see refreshEnds). */
  private readonly endsFromBroker = new Map<string, number>();
  private refreshingEnds = false;
  private readonly listeners: RebalanceListener[] = [];
  private readonly lagListeners: Array<(lag: ReadonlyMap<string, number>) => void> = [];
  private readonly operationTimeoutMs: number;
  private readonly log: Logger | undefined;
  private readonly joinWatch = new GroupJoinWatch(UNSETTLED_WARN_MS);

  constructor(settings: ConsumerSettings, options: InputConsumerOptions = {}) {
    this.raw = new KafkaConsumer(consumerConfig(settings));
    this.operationTimeoutMs = options.operationTimeoutMs ?? 30_000;
    this.log = options.log;
    this.raw.on('rebalance', (error: LibrdKafkaError, partitions: TopicPartition[]) =>
      this.onRebalance(error, partitions),
    );
    this.raw.on('event.stats', (event: { message: string }) => this.onStats(event.message));
  }

  /** Bumped on every assignment change; a batch started under another epoch must not commit. */
  get assignmentEpoch(): number {
    return this.epoch;
  }

  /** True once the first assignment (possibly empty) has arrived from the group. */
  get hasJoinedGroup(): boolean {
    return this.joined;
  }

  get assignment(): readonly TopicPartition[] {
    return this.assigned;
  }

  addRebalanceListener(listener: RebalanceListener): void {
    this.listeners.push(listener);
  }

  async connect(topics: string[], maxWaitMs: number): Promise<void> {
    await call('consumer connect', (done) => this.raw.connect({}, (error) => done(error)));
    this.raw.setDefaultConsumeTimeout(maxWaitMs);
    // Return as soon as something arrived instead of waiting out the timeout for a full batch.
    (
      this.raw as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void }
    ).setDefaultIsTimeoutOnlyForFirstMessage(true);
    this.raw.subscribe(topics);
  }

  /**
   * The next records from the current position. Refuses while the position is not one the caller set:
   * past records no transaction committed (after `markPositionUncommitted()`) or past records dropped by
   * `servingRebalances`, until a `seekTo` or `rewindToCommitted()` succeeded.
   */
  consumeBatch(maxRecords: number): Promise<Message[]> {
    if (this.positionUncommitted) {
      const error = new TributaryError(
        'TRIBUTARY_KAFKA_POSITION_UNCOMMITTED',
        'consume called before a seek set the position (after an abort, or after records were dropped ' +
          'while serving a rebalance)',
      );
      return Promise.reject(error);
    }
    return call<Message[]>('consume', (done) =>
      this.raw.consume(maxRecords, (error, messages) => done(error, messages)),
    );
  }

  /** The group's committed offset per partition; -1 where the group never committed one. */
  async committed(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
    if (partitions.length === 0) return [];
    const plain = partitions.map(({ topic, partition }) => ({ topic, partition }));
    const committed = await call<TopicPartitionOffset[]>('committed', (done) =>
      this.raw.committed(plain, this.operationTimeoutMs, done),
    );
    // The binding leaves `offset` out for OFFSET_INVALID (no commit yet); callers do arithmetic on it.
    return committed.map((c) => ({
      ...c,
      offset: typeof c.offset === 'number' && c.offset >= 0 ? c.offset : -1,
    }));
  }

  /** After an aborted transaction: the position is past what was committed until the next rewind. */
  markPositionUncommitted(): void {
    this.positionUncommitted = true;
  }

  /**
   * Moves every assigned partition back to its committed offset (after an aborted transaction). The read
   * of the committed offsets serves rebalances, so the assignment it read for may be gone by the time it
   * returns: it is read again for the new one, and only the partitions still assigned are sought.
   */
  async rewindToCommitted(): Promise<void> {
    for (;;) {
      const epoch = this.epoch;
      const committed = await this.servingRebalances(this.committed(this.assigned));
      if (epoch !== this.epoch) continue;
      await this.seekTo(committed);
      return;
    }
  }

  /**
   * Awaits `work` (a read of committed offsets, a backoff) while serving the group's rebalance events,
   * for a caller that cannot take records now. librdkafka hands a revoke or an assignment to the
   * application only inside a consume call, and under eager rebalancing it does not rejoin (after a
   * session lost to a stalled broker, or when a copy joins) until the revoke is served: a loop retrying
   * without consuming keeps a dead assignment, and holds up the whole group, for as long as it retries.
   * Records fetched meanwhile are dropped, so consumeBatch refuses until a seek sets the position again.
   */
  async servingRebalances<T>(work: Promise<T>): Promise<T> {
    this.positionUncommitted = true;
    let settled = false;
    const watched = work.then(
      () => (settled = true),
      () => (settled = true),
    );
    while (!settled) {
      const polled = call<Message[]>('consume', (done) =>
        this.raw.consume(1000, (error, messages) => done(error, messages)),
      ).catch(() => []);
      // Rebalances are served either way; only the pace of polling depends on records arriving.
      await Promise.all([polled, Promise.race([watched, sleep(SERVE_STEP_MS)])]);
    }
    return work;
  }

  /**
   * Moves partitions to the given offsets (a negative offset means the beginning). Give the whole
   * assignment: when a partition cannot be seeked yet, the fallback re-assigns exactly these.
   */
  async seekTo(positions: readonly TopicPartitionOffset[]): Promise<void> {
    const targets = positions.map(({ topic, partition, offset }) => ({
      topic,
      partition,
      offset: offset >= 0 ? offset : OFFSET_BEGINNING,
    }));
    for (const target of targets) {
      try {
        await call('seek', (done) => this.raw.seek(target, this.operationTimeoutMs, done));
      } catch {
        // A partition not yet fetching cannot be seeked; re-assigning resets every position at once.
        this.raw.assign(targets);
        break;
      }
    }
    this.positionUncommitted = false;
  }

  /**
   * The next offset to fetch per assigned partition (`topic/partition`), past everything handed to the
   * application, transaction markers included; partitions with no position yet are absent.
   */
  positions(): Map<string, number> {
    const positions = new Map<string, number>();
    if (this.assigned.length === 0) return positions;
    for (const { topic, partition, offset } of this.raw.position(this.assigned.map((tp) => ({ ...tp })))) {
      if (offset !== undefined && offset >= 0) positions.set(partitionKey(topic, partition), offset);
    }
    return positions;
  }

  /**
   * Stops fetching (backpressure) until `resume()`, across rebalances: partitions assigned while paused
   * are paused too. consume keeps the group membership alive meanwhile.
   */
  pause(): void {
    this.pausedMode = true;
    this.pauseInLibrdkafka(this.assigned);
  }

  /**
   * Fetches again: every assigned partition, and every partition paused earlier under any assignment.
   * librdkafka keeps a partition's application pause across a revoke and a new assignment (only its own
   * pause is reset on assign, rdkafka_assignment.c), so a partition paused, revoked and assigned again
   * would otherwise stay paused for good when the resume came while it was not assigned. Resuming a
   * partition that is not paused does nothing (rd_kafka_toppar_op_pause_resume).
   */
  resume(): void {
    this.pausedMode = false;
    const targets = new Map(this.assigned.map((tp) => [partitionKey(tp.topic, tp.partition), tp]));
    for (const [key, tp] of this.pausedInLibrdkafka) targets.set(key, tp);
    this.pausedInLibrdkafka.clear();
    if (targets.size > 0) this.raw.resume([...targets.values()].map((tp) => ({ ...tp })));
  }

  /** positions(), or none while the client is closing (the binding throws ERR__STATE then). */
  private positionsIfOpen(): Map<string, number> {
    try {
      return this.positions();
    } catch {
      return new Map();
    }
  }

  /**
   * Asks the broker for each assigned partition's end, one request round at a time. A read_committed
   * consumer's ListOffsets carries its isolation level (rdkafka_request.c), so the answer is the last
   * stable offset, not the high watermark: records of an open transaction are not counted as lag.
   */
  private refreshEnds(): void {
    if (this.refreshingEnds || this.assigned.length === 0 || !this.raw.isConnected()) return;
    this.refreshingEnds = true;
    const epoch = this.epoch;
    const queries = this.assigned.map(
      ({ topic, partition }) =>
        new Promise<void>((resolve) => {
          // A failed query (broker down, client closing) leaves the last answer: it can only understate
          // the lag. The binding throws instead of calling back once the client is disconnecting.
          try {
            this.raw.queryWatermarkOffsets(topic, partition, END_QUERY_TIMEOUT_MS, (error, offsets) => {
              if (!error && epoch === this.epoch && offsets.highOffset >= 0)
                this.endsFromBroker.set(partitionKey(topic, partition), offsets.highOffset);
              resolve();
            });
          } catch {
            resolve();
          }
        }),
    );
    void Promise.all(queries).finally(() => (this.refreshingEnds = false));
  }

  private pauseInLibrdkafka(partitions: readonly TopicPartition[]): void {
    if (partitions.length === 0) return;
    for (const tp of partitions) this.pausedInLibrdkafka.set(partitionKey(tp.topic, tp.partition), tp);
    this.raw.pause(partitions.map((tp) => ({ ...tp })));
  }

  /** Called after every statistics update with the lag per assigned partition (`topic/partition`). */
  onLag(listener: (lag: ReadonlyMap<string, number>) => void): void {
    this.lagListeners.push(listener);
  }

  /** Lag per assigned partition from librdkafka's statistics (see lagFromStats). */
  lag(): ReadonlyMap<string, number> {
    return this.lagByPartition;
  }

  async disconnect(): Promise<void> {
    if (!this.raw.isConnected()) return;
    await call('consumer disconnect', (done) => this.raw.disconnect((error) => done(error)));
  }

  private onRebalance(error: LibrdKafkaError, partitions: TopicPartition[]): void {
    this.epoch++;
    if (error.code === ERR.ERR__ASSIGN_PARTITIONS) {
      this.joined = true;
      this.assigned = partitions.map(({ topic, partition }) => ({ topic, partition }));
      this.lagByPartition.clear();
      this.endsFromBroker.clear();
      // The binding assigns right after this event; an application pause set now survives the assign.
      if (this.pausedMode) this.pauseInLibrdkafka(this.assigned);
      for (const listener of this.listeners) listener.onAssigned?.(this.assigned);
    } else if (error.code === ERR.ERR__REVOKE_PARTITIONS) {
      const revoked = this.assigned;
      this.assigned = [];
      this.lagByPartition.clear();
      this.endsFromBroker.clear();
      for (const listener of this.listeners) listener.onRevoked?.(revoked);
    }
  }

  private onStats(json: string): void {
    let stats: {
      topics?: Record<string, { partitions?: Record<string, PartitionStats> }>;
      cgrp?: GroupStats;
    };
    try {
      stats = JSON.parse(json) as typeof stats;
    } catch {
      return;
    }
    if (stats.cgrp !== undefined) this.reportGroupPhase(stats.cgrp);
    const owned = new Set(this.assigned.map((tp) => partitionKey(tp.topic, tp.partition)));
    for (const [topic, topicStats] of Object.entries(stats.topics ?? {})) {
      for (const [partition, partitionStats] of Object.entries(topicStats.partitions ?? {})) {
        const key = partitionKey(topic, Number(partition));
        const lag = lagFromStats(partitionStats);
        if (owned.has(key) && lag !== undefined) this.lagByPartition.set(key, lag);
      }
    }
    // The fetcher's view is stale for a partition it does not fetch (paused, or stuck): the broker's
    // last stable offset against our position still shows the records waiting there.
    for (const [key, position] of this.positionsIfOpen()) {
      const end = this.endsFromBroker.get(key);
      if (end !== undefined && end - position > (this.lagByPartition.get(key) ?? 0))
        this.lagByPartition.set(key, end - position);
    }
    this.refreshEnds();
    for (const listener of this.lagListeners) listener(this.lagByPartition);
  }

  private reportGroupPhase(group: GroupStats): void {
    const report = this.joinWatch.observe(group, Date.now());
    const context = {
      groupPhase: report.phase,
      rebalanceReason: group.rebalance_reason,
      rebalances: group.rebalance_cnt,
      assignedPartitions: group.assignment_size,
    };
    if (report.changed) this.log?.info(context, `consumer group membership: ${report.phase}`);
    if (report.unsettledForMs !== undefined)
      this.log?.warn(
        { ...context, unsettledForMs: report.unsettledForMs },
        `consumer group membership unsettled for ${Math.round(report.unsettledForMs / 1000)} s ` +
          `(${report.phase}): in wait-join or wait-sync the coordinator waits on other members, ` +
          `in wait-assign-call or wait-unassign-call on this copy polling`,
      );
  }
}
