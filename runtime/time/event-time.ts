// A processor's event time across its input partitions: progress per partition (PartitionProgress),
// the watermark (progress minus the allowed lateness), the header every output record carries, and
// the snapshots that commit with a batch (in memory for every processor, in the `watermarks` store's
// changelog for one that declares onWatermark) and that an aborted batch rolls back to.
import type { MessageHeader } from '../kafka/librdkafka.ts';
import type { Logger } from '../observability/index.ts';
import { isTributaryError } from '../errors.ts';
import { PartitionProgress } from './partition-progress.ts';
import type { ProgressSnapshot } from './partition-progress.ts';
import { WATERMARK_HEADER, decodeWatermarkHeader, encodeWatermarkHeader } from './watermark-header.ts';
import type { WatermarkHeader } from './watermark-header.ts';

export interface EventTimeRules {
  /** The watermark trails progress by this much: events up to this late still count as on time. */
  allowedLatenessMs: number;
  /** Wall-clock silence after which a source leaves the minimum and a partition is idle. */
  idleTimeoutMs: number;
}

/** Where a partition's snapshot is persisted (the `watermarks` store), when the processor has one. */
export interface ProgressStore {
  read(partition: number): ProgressSnapshot | undefined;
  write(partition: number, snapshot: ProgressSnapshot): void;
}

export interface EventTimeOptions {
  /** Physical input topic and its partition count: what this processor's headers name. */
  inputTopic: string;
  inputPartitions: number;
  rules: EventTimeRules;
  log: Logger;
  store?: ProgressStore;
  /** Per record with an event time: how far behind its partition's progress it came, in seconds. */
  onLateness?: (seconds: number) => void;
  /** A partition went idle: its windows now close by wall clock. */
  onIdle?: (partition: number) => void;
}

interface Held {
  progress: PartitionProgress;
  committed: ProgressSnapshot | undefined;
  dirty: boolean;
  header?: { progressMs: number; header: MessageHeader };
}

export class EventTime {
  private readonly held = new Map<number, Held>();
  private warnedBadHeader = false;

  constructor(private readonly options: EventTimeOptions) {}

  get rules(): EventTimeRules {
    return this.options.rules;
  }

  progress(partition: number, nowMs: number): number {
    return this.partition(partition, nowMs).progress.progress;
  }

  watermark(partition: number, nowMs: number): number {
    return this.progress(partition, nowMs) - this.options.rules.allowedLatenessMs;
  }

  /** Applies one input record; true when the partition's watermark moved. */
  observe(
    partition: number,
    header: Buffer | string | undefined,
    eventTimeMs: number | undefined,
    nowMs: number,
  ): boolean {
    const held = this.partition(partition, nowMs);
    const before = held.progress.progress;
    if (eventTimeMs !== undefined && Number.isFinite(before))
      this.options.onLateness?.(Math.max(0, before - eventTimeMs) / 1000);
    held.progress.observe(this.readHeader(header), eventTimeMs, nowMs);
    held.dirty = true;
    return held.progress.progress > before;
  }

  /** Wall clock for the given partitions: the ones whose watermark moved. */
  tick(partitions: Iterable<number>, nowMs: number): number[] {
    const advanced: number[] = [];
    for (const partition of partitions) {
      const held = this.partition(partition, nowMs);
      const { advanced: moved, becameIdle } = held.progress.tick(nowMs);
      if (becameIdle) this.options.onIdle?.(partition);
      if (!moved) continue;
      held.dirty = true;
      advanced.push(partition);
    }
    return advanced;
  }

  /** As if the partition had received nothing for the idle timeout (for the test driver). */
  markSilent(partition: number, nowMs: number): void {
    this.partition(partition, nowMs).progress.markSilent(nowMs);
  }

  /** The `tributary-wm` header of a record written while handling `partition` (cached per progress). */
  headerFor(partition: number, nowMs: number): MessageHeader {
    const held = this.partition(partition, nowMs);
    const progressMs = held.progress.progress;
    if (held.header?.progressMs === progressMs) return held.header.header;
    const header = {
      [WATERMARK_HEADER]: encodeWatermarkHeader({
        topic: this.options.inputTopic,
        partition,
        partitions: Math.max(this.options.inputPartitions, partition + 1),
        progressMs,
      }),
    };
    held.header = { progressMs, header };
    return header;
  }

  /** Writes changed partitions into the store, so they go out with the batch's changelog. */
  persist(): void {
    const store = this.options.store;
    if (store === undefined) return;
    for (const [partition, held] of this.held)
      if (held.dirty) store.write(partition, held.progress.snapshot());
  }

  commit(): void {
    for (const held of this.held.values()) {
      if (!held.dirty) continue;
      held.committed = held.progress.snapshot();
      held.dirty = false;
    }
  }

  /** Back to the last committed progress (the batch was aborted). */
  rollback(nowMs: number): void {
    for (const [partition, held] of this.held)
      if (held.dirty) this.held.set(partition, this.fresh(held.committed, nowMs));
  }

  /** Forgets partitions (revoked): a later assignment restores them from the store. */
  release(partitions: Iterable<number>): void {
    for (const partition of partitions) this.held.delete(partition);
  }

  private partition(partition: number, nowMs: number): Held {
    let held = this.held.get(partition);
    if (held === undefined) {
      held = this.fresh(this.options.store?.read(partition), nowMs);
      this.held.set(partition, held);
    }
    return held;
  }

  private fresh(snapshot: ProgressSnapshot | undefined, nowMs: number): Held {
    const progress = new PartitionProgress(this.options.rules.idleTimeoutMs, nowMs, snapshot);
    return { progress, committed: snapshot, dirty: false };
  }

  private readHeader(value: Buffer | string | undefined): WatermarkHeader | undefined {
    if (value === undefined) return undefined;
    try {
      return decodeWatermarkHeader(value);
    } catch (error) {
      if (!isTributaryError(error) || error.code !== 'TRIBUTARY_TIME_BAD_HEADER') throw error;
      if (!this.warnedBadHeader)
        this.options.log.warn({ err: error }, 'ignoring an unreadable tributary-wm header (logged once)');
      this.warnedBadHeader = true;
      return undefined;
    }
  }
}
