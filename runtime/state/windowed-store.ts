// A windowed state store for one input partition: values keyed by (group key, window start), each with
// its window end, handed back in window-end order when the watermark closes them. Closing removes the
// windows (tombstones in the changelog), so the store holds only open windows. Journaled like the keyed
// store: a rejected record or an aborted batch rolls its writes back, which is why a value read with
// `get` must not be changed in place: `set` a new one (the journal keeps the old object to restore).
import { TributaryError } from '../errors.ts';
import type { ChangelogRecord, JournalEntry, JournaledStore } from './journal.ts';
import { deepFreeze } from './deep-freeze.ts';
import type { StoreCodec, WindowedEntry } from './store-codecs.ts';

export interface WindowEntry<V> {
  key: string;
  startMs: number;
  endMs: number;
  value: V;
}

/** What a handler or timer sees of a windowed store (`ctx.store(name)`). */
export interface WindowedStore<V> {
  get(key: string, startMs: number): V | undefined;
  set(key: string, startMs: number, endMs: number, value: V): void;
  delete(key: string, startMs: number): void;
  /** Removes and returns every window ending at or before `endMs`, by end, then start, then key. */
  closeUntil(endMs: number): Array<WindowEntry<V>>;
  /** The earliest window end held; undefined when empty. */
  readonly nextEndMs: number | undefined;
  readonly size: number;
  entries(): IterableIterator<WindowEntry<V>>;
}

const idOf = (key: string, startMs: number): string => `${startMs}|${key}`;

export class PartitionWindowedStore<V> implements WindowedStore<V>, JournaledStore {
  private readonly data = new Map<string, WindowEntry<V>>();
  private readonly byEnd = new Map<number, Set<string>>();
  /** Distinct window ends held, ascending (few: the open windows' ends). */
  private readonly ends: number[] = [];

  constructor(
    readonly name: string,
    readonly partition: number,
    private readonly journal: JournalEntry[],
    /** How windows are written to and read from the changelog (Avro under the changelog's subject). */
    private readonly codec: StoreCodec<WindowedEntry>,
    /** Deep-freeze values on set (StateManager's freezeValues). */
    private readonly freezeValues = false,
  ) {}

  get size(): number {
    return this.data.size;
  }

  get nextEndMs(): number | undefined {
    return this.ends[0];
  }

  get(key: string, startMs: number): V | undefined {
    return this.data.get(idOf(key, startMs))?.value;
  }

  set(key: string, startMs: number, endMs: number, value: V): void {
    const id = idOf(key, startMs);
    this.record(id);
    this.put(id, { key, startMs, endMs, value: this.freezeValues ? deepFreeze(value) : value });
  }

  delete(key: string, startMs: number): void {
    const id = idOf(key, startMs);
    if (!this.data.has(id)) return;
    this.record(id);
    this.put(id, undefined);
  }

  closeUntil(endMs: number): Array<WindowEntry<V>> {
    const closed: Array<WindowEntry<V>> = [];
    while (this.ends.length > 0 && (this.ends[0] ?? Number.POSITIVE_INFINITY) <= endMs) {
      const ids = [...(this.byEnd.get(this.ends[0] ?? 0) ?? [])];
      const entries = ids.flatMap((id) => this.data.get(id) ?? []);
      entries.sort((a, b) => a.startMs - b.startMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      for (const entry of entries) this.delete(entry.key, entry.startMs);
      closed.push(...entries);
    }
    return closed;
  }

  *entries(): IterableIterator<WindowEntry<V>> {
    yield* this.data.values();
  }

  changelogRecords(changedKeys: ReadonlySet<string>): ChangelogRecord[] {
    return [...changedKeys].map((id) => {
      const entry = this.data.get(id);
      const value =
        entry === undefined ? null : this.codec.encode({ end_ms: entry.endMs, value: entry.value });
      return { key: Buffer.from(id), value };
    });
  }

  commit(): void {
    // Writes are applied in place; the journal alone remembers what to undo.
  }

  applyRestored(key: Buffer, value: Buffer | null): void {
    const id = key.toString('utf8');
    const cut = id.indexOf('|');
    const startMs = Number(id.slice(0, cut));
    if (cut < 0 || !Number.isFinite(startMs))
      throw new TributaryError(
        'TRIBUTARY_STATE_CHANGELOG_CORRUPT',
        `windowed store ${this.name}: changelog key "${id.slice(0, 100)}" is not <windowStart>|<key>`,
        { context: { store: this.name, partition: this.partition } },
      );
    if (value === null) {
      this.put(id, undefined);
      return;
    }
    // Restore prepares the codec (fetches writer schemas) before handing a record over.
    const decoded = this.codec.decode(value) as WindowedEntry<V>;
    const restored = this.freezeValues ? deepFreeze(decoded.value) : decoded.value;
    this.put(id, { key: id.slice(cut + 1), startMs, endMs: decoded.end_ms, value: restored });
  }

  finishRestore(): void {
    // Restored windows are the committed state as they are.
  }

  private put(id: string, entry: WindowEntry<V> | undefined): void {
    const previous = this.data.get(id);
    if (previous !== undefined) {
      this.data.delete(id);
      this.unindex(id, previous.endMs);
    }
    if (entry === undefined) return;
    this.data.set(id, entry);
    this.index(id, entry.endMs);
  }

  private index(id: string, endMs: number): void {
    let ids = this.byEnd.get(endMs);
    if (ids === undefined) {
      this.byEnd.set(endMs, (ids = new Set()));
      let at = this.ends.length;
      while (at > 0 && (this.ends[at - 1] ?? 0) > endMs) at--; // ends arrive mostly in order
      this.ends.splice(at, 0, endMs);
    }
    ids.add(id);
  }

  private unindex(id: string, endMs: number): void {
    const ids = this.byEnd.get(endMs);
    if (ids === undefined) return;
    ids.delete(id);
    if (ids.size > 0) return;
    this.byEnd.delete(endMs);
    this.ends.splice(this.ends.indexOf(endMs), 1);
  }

  private record(id: string): void {
    const previous = this.data.get(id);
    this.journal.push({ store: this, key: id, undo: () => this.put(id, previous) });
  }
}
