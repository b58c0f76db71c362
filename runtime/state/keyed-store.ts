// A keyed state store for one input partition. Every write is journaled so the runtime can roll a
// rejected record or an aborted batch back, and turn the batch's net changes into changelog records.

export interface KeyedStore<V> {
  get(key: string): V | undefined;
  has(key: string): boolean;
  /** `time` (ms, e.g. event time) orders entries for `expireBefore`; default 0. */
  set(key: string, value: V, time?: number): void;
  delete(key: string): void;
  /** Deletes entries older than `cutoff`, oldest first, stopping at the first newer one; returns how many. */
  expireBefore(cutoff: number): number;
  /** Deletes the oldest entries until at most `maxEntries` remain; returns how many went. */
  trimToSize(maxEntries: number): number;
  readonly size: number;
  entries(): IterableIterator<[string, V]>;
}

export interface StoredEntry<V> {
  value: V;
  time: number;
}

/** One write, with what the key held before it (undefined: absent). */
export interface JournalEntry {
  store: PartitionStore<unknown>;
  key: string;
  previous: StoredEntry<unknown> | undefined;
  /** False for expiry of a store whose changelog forgets old records by retention: undo only. */
  logged: boolean;
}

export class PartitionStore<V> implements KeyedStore<V> {
  private readonly data = new Map<string, StoredEntry<V>>();

  constructor(
    readonly name: string,
    readonly partition: number,
    private readonly journal: JournalEntry[],
    /** Expiry and trimming stay local (no tombstones): the changelog drops old records by retention. */
    private readonly localExpiry = false,
  ) {}

  get size(): number {
    return this.data.size;
  }

  get(key: string): V | undefined {
    return this.data.get(key)?.value;
  }

  has(key: string): boolean {
    return this.data.has(key);
  }

  set(key: string, value: V, time = 0): void {
    this.record(key);
    // Re-inserting keeps the map in (roughly) time order, which expireBefore relies on.
    this.data.delete(key);
    this.data.set(key, { value, time });
  }

  delete(key: string): void {
    this.remove(key, true);
  }

  private remove(key: string, logged: boolean): void {
    if (!this.data.has(key)) return;
    this.record(key, logged);
    this.data.delete(key);
  }

  expireBefore(cutoff: number): number {
    let expired = 0;
    for (const [key, entry] of this.data) {
      if (entry.time >= cutoff) break;
      this.remove(key, !this.localExpiry);
      expired++;
    }
    return expired;
  }

  trimToSize(maxEntries: number): number {
    let trimmed = 0;
    for (const key of this.data.keys()) {
      if (this.data.size <= maxEntries) break;
      this.remove(key, !this.localExpiry);
      trimmed++;
    }
    return trimmed;
  }

  *entries(): IterableIterator<[string, V]> {
    for (const [key, entry] of this.data) yield [key, entry.value];
  }

  /** Current entry, for building the changelog record of a key. */
  current(key: string): StoredEntry<V> | undefined {
    return this.data.get(key);
  }

  /** Applies a changelog record during restore (no journal: restored state is committed state). */
  restore(key: string, entry: StoredEntry<V> | undefined): void {
    this.data.delete(key);
    if (entry !== undefined) this.data.set(key, entry);
  }

  /** Forgets the oldest entry without journaling it (restore only). */
  dropOldest(): void {
    const oldest = this.data.keys().next();
    if (oldest.done !== true) this.data.delete(oldest.value);
  }

  /** Puts back what a journaled write replaced. */
  undo(key: string, previous: StoredEntry<unknown> | undefined): void {
    this.restore(key, previous as StoredEntry<V> | undefined);
  }

  private record(key: string, logged = true): void {
    this.journal.push({ store: this, key, previous: this.data.get(key), logged });
  }
}
