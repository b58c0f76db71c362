// Decoding gives every field of every value a fresh string: a million customers on three plans would hold
// three million copies of three words. Per top-level field, equal strings are shared while the field has
// few distinct values; a field with many (an id) stops being pooled. A field equal to the record's key
// shares the key's string.
import { approximateBytes } from './size-estimate.ts';

export const DEFAULT_MAX_DISTINCT_PER_FIELD = 1024;

export class StringSharing {
  /** Per field: its pool, or null once it showed too many distinct values to be worth pooling. */
  private readonly pools = new Map<string, Map<string, string> | null>();

  constructor(private readonly maxDistinctPerField = DEFAULT_MAX_DISTINCT_PER_FIELD) {}

  /**
   * Replaces the value's top-level strings by shared equal ones, in place; returns the approximate bytes
   * this value no longer holds on its own (for the size estimate).
   */
  share(key: string, value: unknown): number {
    if (typeof value !== 'object' || value === null) return 0;
    const record = value as Record<string, unknown>;
    let sharedBytes = 0;
    for (const field of Object.keys(record)) {
      const text = record[field];
      if (typeof text !== 'string') continue;
      // Strings compare by content: whether one is shared is known from where it came, not from ===.
      const shared = text === key ? key : this.pooled(field, text);
      if (shared === undefined) continue;
      record[field] = shared;
      sharedBytes += approximateBytes(text);
    }
    return sharedBytes;
  }

  /** The pool's copy of `text`, or undefined when `text` becomes that copy or the field is not pooled. */
  private pooled(field: string, text: string): string | undefined {
    let pool = this.pools.get(field);
    if (pool === null) return undefined;
    if (pool === undefined) {
      pool = new Map<string, string>();
      this.pools.set(field, pool);
    }
    const shared = pool.get(text);
    if (shared !== undefined) return shared;
    if (pool.size >= this.maxDistinctPerField) this.pools.set(field, null);
    else pool.set(text, text);
    return undefined;
  }
}
