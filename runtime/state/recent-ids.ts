// The ids seen in the last `horizonMs` of one partition (ingest's dedup memory), in time buckets of
// 64-bit hashes. A bucket is one unit of expiry: its ids go to the changelog as binary chunks keyed
// `<bucketStart>:<seq>`, and when the bucket leaves the horizon one tombstone per chunk deletes it, so
// the compacted changelog holds about the live state instead of every id of its retention.
import { TributaryError } from '../errors.ts';
import { IdTable, hashId } from './id-table.ts';
import type { ChangelogRecord, JournalEntry, JournaledStore } from './journal.ts';

export interface RecentIds {
  /** True when the id was added within the horizon before `time` (up to a bucket longer, never shorter). */
  has(id: string, time: number): boolean;
  /** Remembers the id at `time` (ms, e.g. arrival time); the newest time seen moves the horizon. */
  add(id: string, time: number): void;
  readonly size: number;
}

export interface RecentIdsSettings {
  horizonMs: number;
  /** Cap per partition (memory); past it the oldest buckets go and the kept horizon shrinks. */
  maxIds: number;
}

/** Buckets per horizon: expiry is this much coarser than the horizon (ids live up to 1/16 longer). */
export const BUCKETS_PER_HORIZON = 16;
const CHUNK_IDS = 16_384;
const CHUNK_VERSION = 1;
const HEADER_BYTES = 9;

interface Bucket {
  start: number;
  ids: IdTable;
  /** Chunks committed to the changelog under this bucket (their seqs are 0..chunks-1). */
  chunks: number;
}

interface DropPlan {
  expired: Bucket[];
  capped: Bucket[];
}

export class PartitionRecentIds implements RecentIds, JournaledStore {
  private buckets: Bucket[] = [];
  private readonly bucketMs: number;
  private clock = Number.NEGATIVE_INFINITY;
  private pendingClock = Number.NEGATIVE_INFINITY;
  private readonly pending: Array<{ bucket: Bucket; hi: number; lo: number }> = [];
  /** Chunk keys read at restore that belong to no live bucket (e.g. after a shorter horizon). */
  private staleKeys: string[] = [];
  private restored = new Map<string, Buffer>();
  private keptMs: number;
  private readonly hash = new Uint32Array(2);

  constructor(
    readonly name: string,
    readonly partition: number,
    private readonly journal: JournalEntry[],
    private readonly settings: RecentIdsSettings,
  ) {
    this.bucketMs = Math.max(1, Math.ceil(settings.horizonMs / BUCKETS_PER_HORIZON));
    this.keptMs = settings.horizonMs;
  }

  get size(): number {
    return this.buckets.reduce((sum, b) => sum + b.ids.size, 0);
  }

  /** Bytes of the hash tables (what an id costs in memory, beyond the fixed overhead). */
  get bytes(): number {
    return this.buckets.reduce((sum, b) => sum + b.ids.bytes, 0);
  }

  /** How far back ids are really remembered: the horizon, or less while the cap drops buckets. */
  get keptHorizonMs(): number {
    return this.keptMs;
  }

  has(id: string, time: number): boolean {
    hashId(id, this.hash);
    const [hi = 0, lo = 0] = this.hash;
    const clock = Math.max(this.pendingClock, time);
    for (let i = this.buckets.length - 1; i >= 0; i--) {
      const bucket = this.buckets[i];
      if (bucket === undefined || this.isExpired(bucket, clock)) break;
      if (bucket.ids.has(hi, lo)) return true;
    }
    return false;
  }

  add(id: string, time: number): void {
    const previousClock = this.pendingClock;
    this.pendingClock = Math.max(this.pendingClock, time);
    const bucket = this.bucketAt(this.pendingClock);
    hashId(id, this.hash);
    const [hi = 0, lo = 0] = this.hash;
    if (!bucket.ids.add(hi, lo)) {
      this.pendingClock = previousClock;
      return;
    }
    this.pending.push({ bucket, hi, lo });
    this.journal.push({ store: this, key: undefined, undo: () => this.undoAdd(previousClock) });
  }

  changelogRecords(): ChangelogRecord[] {
    const plan = this.dropPlan();
    const dropped = new Set([...plan.expired, ...plan.capped]);
    // Stream time as record time: segments roll, and so get compacted, as the horizon moves.
    const timestamp = Number.isFinite(this.pendingClock) ? this.pendingClock : undefined;
    const record = (key: string, value: Buffer | null): ChangelogRecord =>
      timestamp === undefined
        ? { key: Buffer.from(key), value }
        : { key: Buffer.from(key), value, timestamp };
    const records = this.staleKeys.map((key) => record(key, null));
    for (const bucket of dropped)
      for (let seq = 0; seq < bucket.chunks; seq++) records.push(record(`${bucket.start}:${seq}`, null));
    for (const [bucket, ids] of this.pendingByBucket()) {
      if (dropped.has(bucket)) continue;
      for (let first = 0, seq = bucket.chunks; first < ids.length; first += CHUNK_IDS * 2, seq++) {
        const chunk = ids.slice(first, first + CHUNK_IDS * 2);
        records.push(record(`${bucket.start}:${seq}`, this.encodeChunk(chunk)));
      }
    }
    return records;
  }

  commit(): void {
    const plan = this.dropPlan();
    for (const [bucket, ids] of this.pendingByBucket())
      bucket.chunks += Math.ceil(ids.length / (CHUNK_IDS * 2));
    this.pending.length = 0;
    this.staleKeys = [];
    this.clock = this.pendingClock;
    this.drop(plan);
  }

  applyRestored(key: Buffer, value: Buffer | null): void {
    const name = key.toString('utf8');
    if (value === null) this.restored.delete(name);
    else this.restored.set(name, value);
  }

  finishRestore(): void {
    const chunks = [...this.restored].map(([key, value]) => this.decodeChunk(key, value));
    this.restored = new Map();
    for (const chunk of chunks) this.clock = Math.max(this.clock, chunk.time);
    this.pendingClock = this.clock;
    const live = [];
    for (const chunk of chunks) {
      if (this.isExpired(chunk, this.clock)) this.staleKeys.push(chunk.key);
      else live.push(chunk);
    }
    for (const chunk of live.sort((a, b) => a.start - b.start || a.seq - b.seq)) {
      const bucket = this.bucketAt(chunk.start);
      bucket.chunks = Math.max(bucket.chunks, chunk.seq + 1);
      for (let i = 0; i < chunk.ids.length; i += 2) bucket.ids.add(chunk.ids[i] ?? 0, chunk.ids[i + 1] ?? 0);
    }
    const plan = this.dropPlan();
    for (const bucket of plan.capped)
      for (let seq = 0; seq < bucket.chunks; seq++) this.staleKeys.push(`${bucket.start}:${seq}`);
    this.drop({ expired: [], capped: plan.capped });
    for (const bucket of this.buckets) bucket.ids.seal();
  }

  private isExpired(bucket: { start: number }, clock: number): boolean {
    return bucket.start + this.bucketMs <= clock - this.settings.horizonMs;
  }

  /** The bucket holding `time`, created (and the previous newest sealed) when time moved past it. */
  private bucketAt(time: number): Bucket {
    const start = Math.floor(time / this.bucketMs) * this.bucketMs;
    const newest = this.buckets[this.buckets.length - 1];
    if (newest !== undefined && newest.start >= start) return newest;
    const bucket = { start, ids: new IdTable(), chunks: 0 };
    this.buckets.push(bucket);
    return bucket;
  }

  private undoAdd(previousClock: number): void {
    const last = this.pending.pop();
    if (last === undefined) return;
    last.bucket.ids.remove(last.hi, last.lo);
    this.pendingClock = previousClock;
    const newest = this.buckets[this.buckets.length - 1];
    if (newest === last.bucket && newest.ids.size === 0 && newest.chunks === 0) this.buckets.pop();
  }

  /** Buckets the next commit drops: out of the horizon, then the oldest while over the cap. */
  private dropPlan(): DropPlan {
    const expired = this.buckets.filter((b) => this.isExpired(b, this.pendingClock));
    const capped: Bucket[] = [];
    let size = this.size - expired.reduce((sum, b) => sum + b.ids.size, 0);
    for (const bucket of this.buckets.slice(expired.length, -1)) {
      if (size <= this.settings.maxIds) break;
      capped.push(bucket);
      size -= bucket.ids.size;
    }
    return { expired, capped };
  }

  private drop(plan: DropPlan): void {
    const gone = new Set([...plan.expired, ...plan.capped]);
    this.buckets = this.buckets.filter((b) => !gone.has(b));
    for (const bucket of this.buckets.slice(0, -1)) bucket.ids.seal();
    const oldest = this.buckets[0];
    if (plan.capped.length > 0 && oldest !== undefined) this.keptMs = Math.max(0, this.clock - oldest.start);
    else if (plan.expired.length > 0) this.keptMs = this.settings.horizonMs;
  }

  private pendingByBucket(): Map<Bucket, number[]> {
    const byBucket = new Map<Bucket, number[]>();
    for (const { bucket, hi, lo } of this.pending) {
      let ids = byBucket.get(bucket);
      if (ids === undefined) byBucket.set(bucket, (ids = []));
      ids.push(hi, lo);
    }
    return byBucket;
  }

  /** [version u8][clock f64 LE][hi u32 LE, lo u32 LE]… */
  private encodeChunk(ids: number[]): Buffer {
    const buffer = Buffer.allocUnsafe(HEADER_BYTES + ids.length * 4);
    buffer.writeUInt8(CHUNK_VERSION, 0);
    buffer.writeDoubleLE(this.pendingClock, 1);
    for (let i = 0; i < ids.length; i++) buffer.writeUInt32LE(ids[i] ?? 0, HEADER_BYTES + i * 4);
    return buffer;
  }

  private decodeChunk(
    key: string,
    value: Buffer,
  ): { key: string; start: number; seq: number; time: number; ids: Uint32Array } {
    const [start, seq] = key.split(':').map(Number);
    const idBytes = value.length - HEADER_BYTES;
    if (
      start === undefined ||
      seq === undefined ||
      !Number.isFinite(start) ||
      !Number.isInteger(seq) ||
      value.readUInt8(0) !== CHUNK_VERSION ||
      idBytes % 8 !== 0
    ) {
      throw new TributaryError(
        'TRIBUTARY_STATE_CHANGELOG_CORRUPT',
        `changelog record ${key} of ${this.name}/${this.partition} is not an id chunk`,
        { context: { key, bytes: value.length } },
      );
    }
    const ids = new Uint32Array(idBytes / 4);
    for (let i = 0; i < ids.length; i++) ids[i] = value.readUInt32LE(HEADER_BYTES + i * 4);
    return { key, start, seq, time: value.readDoubleLE(1), ids };
  }
}
