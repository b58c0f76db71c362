// How far one input partition has progressed in event time. A record with a `tributary-wm` header
// reports its upstream source partition's progress (kept per source, monotone); a record without one
// reports its own event time (the largest seen). The partition's progress is the minimum over the
// sources heard from within `idleTimeoutMs` (wall clock), so a slow upstream partition holds it back
// while it still sends, and one silent while the others send stops holding it after the timeout. A partition with no records
// for `idleTimeoutMs` is idle: its progress then moves on with the wall clock from its last record.
// Progress never goes back.
import type { ProgressSnapshot } from '../contracts/records.ts';
import type { WatermarkHeader } from './watermark-header.ts';

const NONE = Number.NEGATIVE_INFINITY;

interface Source {
  progressMs: number;
  heardAt: number;
}

/** What the watermarks store keeps per partition (schemas/progress-snapshot.avsc; null: not known). */
export type { ProgressSnapshot };

export interface TickResult {
  advanced: boolean;
  /** The partition just went idle (no records for idleTimeoutMs). */
  becameIdle: boolean;
}

const known = (ms: number): number | null => (Number.isFinite(ms) ? ms : null);
const orNone = (ms: number | null): number => ms ?? NONE;

export class PartitionProgress {
  private readonly sources = new Map<string, Source>();
  private readonly sourceTopics = new Set<string>();
  private localMs = NONE;
  private localHeardAt = NONE;
  private progressMs = NONE;
  private progressAtLastRecordMs = NONE;
  /** Largest event time of any record (header or not): where an idle partition of unknown progress starts. */
  private largestEventTimeMs = NONE;
  private lastRecordAt: number;
  private idle = false;

  constructor(
    private readonly idleTimeoutMs: number,
    nowMs: number,
    snapshot?: ProgressSnapshot,
  ) {
    this.lastRecordAt = nowMs;
    if (snapshot === undefined) return;
    // Restored sources count as heard now: each holds the minimum for one timeout unless it reports.
    for (const { source: key, progress } of snapshot.sources) {
      this.sources.set(key, { progressMs: orNone(progress), heardAt: nowMs });
      this.sourceTopics.add(key.slice(0, key.lastIndexOf('/')));
    }
    this.localMs = orNone(snapshot.local);
    if (snapshot.local !== null) this.localHeardAt = nowMs;
    this.progressMs = orNone(snapshot.progress);
    this.progressAtLastRecordMs = orNone(snapshot.at_last_record);
    this.largestEventTimeMs = orNone(snapshot.largest);
  }

  /** Event-time progress (ms); -Infinity until every source that holds it back has reported. */
  get progress(): number {
    return this.progressMs;
  }

  get isIdle(): boolean {
    return this.idle;
  }

  /** A record arrived: its header, else its own event time (undefined when it has none). */
  observe(header: WatermarkHeader | undefined, eventTimeMs: number | undefined, nowMs: number): void {
    // A partition waking from idle says nothing about any one source: each gets a new timeout to report,
    // so the first source to resume does not run ahead of the others.
    if (nowMs - this.lastRecordAt >= this.idleTimeoutMs) this.heardAllAt(nowMs);
    this.lastRecordAt = nowMs;
    this.idle = false;
    if (eventTimeMs !== undefined && eventTimeMs > this.largestEventTimeMs)
      this.largestEventTimeMs = eventTimeMs;
    if (header !== undefined) this.hear(header, nowMs);
    else if (eventTimeMs !== undefined) {
      if (eventTimeMs > this.localMs) this.localMs = eventTimeMs;
      this.localHeardAt = nowMs;
    }
    this.recompute(nowMs);
    this.progressAtLastRecordMs = this.progressMs;
  }

  /** Wall-clock time passed: silent sources leave the minimum, an idle partition moves on. */
  tick(nowMs: number): TickResult {
    const before = this.progressMs;
    this.recompute(nowMs);
    const silentMs = nowMs - this.lastRecordAt;
    let becameIdle = false;
    if (silentMs >= this.idleTimeoutMs) {
      becameIdle = !this.idle;
      this.idle = true;
      // Idle: every record the partition was sent is in, so it moves on from the largest event time it
      // saw (or its progress, if ahead). Not from its progress alone: that trails the newest records by
      // the upstream's delay, which compressed or backfilled event time turns into many minutes that the
      // wall clock would take as long to close. An upstream source that never reported can also leave the
      // progress unknown (the headers that would carry its exclusion ride on records that no longer come).
      const from = Math.max(this.progressAtLastRecordMs, this.largestEventTimeMs);
      const byClock = from + silentMs;
      if (byClock > this.progressMs) this.progressMs = byClock;
    }
    return { advanced: this.progressMs > before, becameIdle };
  }

  private heardAllAt(nowMs: number): void {
    for (const source of this.sources.values()) source.heardAt = nowMs;
    if (Number.isFinite(this.localHeardAt)) this.localHeardAt = nowMs;
  }

  /** As if nothing had arrived for the idle timeout (the test driver's "mark idle"). */
  markSilent(nowMs: number): void {
    const since = nowMs - this.idleTimeoutMs;
    this.lastRecordAt = Math.min(this.lastRecordAt, since);
    for (const source of this.sources.values()) source.heardAt = Math.min(source.heardAt, since);
    this.localHeardAt = Math.min(this.localHeardAt, since);
  }

  snapshot(): ProgressSnapshot {
    return {
      sources: [...this.sources].map(([source, s]) => ({ source, progress: known(s.progressMs) })),
      local: known(this.localMs),
      progress: known(this.progressMs),
      at_last_record: known(this.progressAtLastRecordMs),
      largest: known(this.largestEventTimeMs),
    };
  }

  private hear(header: WatermarkHeader, nowMs: number): void {
    // The first record from an upstream topic names how many partitions it has: each is a source that
    // holds the minimum until it reports or falls silent.
    if (!this.sourceTopics.has(header.topic)) {
      this.sourceTopics.add(header.topic);
      for (let p = 0; p < header.partitions; p++)
        if (!this.sources.has(`${header.topic}/${p}`))
          this.sources.set(`${header.topic}/${p}`, { progressMs: NONE, heardAt: nowMs });
    }
    const key = `${header.topic}/${header.partition}`;
    const source = this.sources.get(key);
    if (source === undefined) {
      this.sources.set(key, { progressMs: header.progressMs, heardAt: nowMs });
      return;
    }
    source.heardAt = nowMs;
    if (header.progressMs > source.progressMs) source.progressMs = header.progressMs;
  }

  private recompute(nowMs: number): void {
    const heardSince = nowMs - this.idleTimeoutMs;
    let min = Number.POSITIVE_INFINITY;
    for (const source of this.sources.values())
      if (source.heardAt > heardSince && source.progressMs < min) min = source.progressMs;
    if (this.localHeardAt > heardSince && this.localMs < min) min = this.localMs;
    if (min !== Number.POSITIVE_INFINITY && min > this.progressMs) this.progressMs = min;
  }
}
