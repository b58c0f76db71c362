// The pure parts of a sink's batching: limits by rows, bytes and age; deduplication tokens derived
// from the offsets a write covers; splitting rows for a retry that isolates a rejected one.
import { createHash } from 'node:crypto';
import type { SinkRow } from './sink-definition.ts';

export interface BatchLimits {
  maxBatchRows: number;
  maxBatchBytes: number;
  flushIntervalMs: number;
}

/** Records consumed and not yet flushed, with what the limits need. */
export class PendingBatch<T extends { value: Buffer | null | undefined }> {
  private items: T[] = [];
  private bytes = 0;
  private firstAt = 0;

  get size(): number {
    return this.items.length;
  }

  add(records: readonly T[], now: number): void {
    if (records.length === 0) return;
    if (this.items.length === 0) this.firstAt = now;
    for (const record of records) {
      this.items.push(record);
      this.bytes += record.value?.length ?? 0;
    }
  }

  /** True when a limit is reached: enough rows, enough bytes, or the oldest record waited long enough. */
  isDue(limits: BatchLimits, now: number): boolean {
    if (this.items.length === 0) return false;
    return (
      this.items.length >= limits.maxBatchRows ||
      this.bytes >= limits.maxBatchBytes ||
      now - this.firstAt >= limits.flushIntervalMs
    );
  }

  /** How long until the age limit is reached, in ms (for how long to wait for more records). */
  msUntilDue(limits: BatchLimits, now: number): number {
    if (this.items.length === 0) return limits.flushIntervalMs;
    return Math.max(0, limits.flushIntervalMs - (now - this.firstAt));
  }

  take(): T[] {
    const taken = this.items;
    this.items = [];
    this.bytes = 0;
    return taken;
  }

  /** Takes the records `wanted` picks, in order; the others stay, with the batch's age. */
  takeWhere(wanted: (record: T) => boolean): T[] {
    const taken = this.items.filter(wanted);
    this.items = this.items.filter((record) => !wanted(record));
    this.bytes = this.items.reduce((sum, record) => sum + (record.value?.length ?? 0), 0);
    return taken;
  }

  clear(): void {
    this.take();
  }
}

/** `topic/partition` → lowest and highest offset among the rows. */
export function offsetRanges(rows: readonly SinkRow[]): Map<string, { low: number; high: number }> {
  const ranges = new Map<string, { low: number; high: number }>();
  for (const row of rows) {
    const key = `${row.topic}/${row.partition}`;
    const range = ranges.get(key);
    if (range === undefined) ranges.set(key, { low: row.offset, high: row.offset });
    else {
      range.low = Math.min(range.low, row.offset);
      range.high = Math.max(range.high, row.offset);
    }
  }
  return ranges;
}

/**
 * A deterministic token for a write: the target and every (topic, partition, offset range) it covers.
 * The same rows written again (a retry after an ambiguous failure) carry the same token, so the store
 * can drop the repeat.
 */
export function dedupToken(target: string, rows: readonly SinkRow[]): string {
  const parts = [...offsetRanges(rows).entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, { low, high }]) => `${key}:${low}-${high}:${rows.length}`);
  const digest = createHash('sha256')
    .update(`${target}|${parts.join('|')}`)
    .digest('hex');
  return `${target}-${digest.slice(0, 40)}`;
}

/** Halves, for isolating the rows a store rejects without giving up the others. */
export function splitInHalves<T>(rows: readonly T[]): [T[], T[]] {
  const middle = Math.ceil(rows.length / 2);
  return [rows.slice(0, middle), rows.slice(middle)];
}
