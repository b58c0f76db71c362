// A keyed state store for one input partition. Every write is journaled so the runtime can roll a
// rejected record or an aborted batch back, and turn the batch's net changes into changelog records.
import type { ChangelogRecord, JournalEntry, JournaledStore } from './journal.ts';
import { deepFreeze } from './deep-freeze.ts';
import type { KeyedEntry, StoreCodec } from './store-codecs.ts';

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

export interface PartitionStoreOptions {
  /** How entries are written to and read from the changelog (Avro under the changelog's subject). */
  codec: StoreCodec<KeyedEntry>;
  /** Expiry and trimming stay local (no tombstones): the changelog drops old records by retention. */
  localExpiry?: boolean;
  /** Most entries kept while restoring (oldest dropped first), for a changelog longer than the store. */
  maxEntries?: number;
  /** Deep-freeze values on set (StateManager's freezeValues). */
  freezeValues?: boolean;
}

export class PartitionStore<V> implements KeyedStore<V>, JournaledStore {
  private readonly data = new Map<string, StoredEntry<V>>();

  constructor(
    readonly name: string,
    readonly partition: number,
    private readonly journal: JournalEntry[],
    private readonly options: PartitionStoreOptions,
  ) {}

  private get localExpiry(): boolean {
    return this.options.localExpiry === true;
  }

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
    this.data.set(key, { value: this.options.freezeValues === true ? deepFreeze(value) : value, time });
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

  changelogRecords(changedKeys: ReadonlySet<string>): ChangelogRecord[] {
    return [...changedKeys].map((key) => {
      const entry = this.data.get(key);
      return { key: Buffer.from(key), value: entry === undefined ? null : this.options.codec.encode(entry) };
    });
  }

  commit(): void {
    // Writes are applied in place; the journal alone remembers what to undo.
  }

  applyRestored(key: Buffer, value: Buffer | null): void {
    // Restore prepares the codec (fetches writer schemas) before handing a record over.
    const decoded = value === null ? undefined : (this.options.codec.decode(value) as KeyedEntry<V>);
    if (decoded !== undefined && this.options.freezeValues === true) deepFreeze(decoded.value);
    this.put(
      key.toString('utf8'),
      decoded === undefined ? undefined : { value: decoded.value, time: decoded.time },
    );
    // Keeps memory bounded when the changelog holds more than the store may keep (local expiry).
    if (this.data.size > (this.options.maxEntries ?? Number.POSITIVE_INFINITY)) {
      const oldest = this.data.keys().next();
      if (oldest.done !== true) this.data.delete(oldest.value);
    }
  }

  finishRestore(): void {
    // Restored entries are the committed state as they are.
  }

  private put(key: string, entry: StoredEntry<V> | undefined): void {
    this.data.delete(key);
    if (entry !== undefined) this.data.set(key, entry);
  }

  private record(key: string, logged = true): void {
    const previous = this.data.get(key);
    this.journal.push({
      store: this,
      // Undo-only entries (local expiry) write nothing to the changelog.
      key: logged ? key : undefined,
      undo: () => this.put(key, previous),
    });
  }
}
