// A keyed table that remembers, per key, the versions of its value and the time each became valid, so a
// lookup at an event's time answers as the table stood then (a temporal join): replaying old events gives
// the answers they got the first time. History is bounded: a version is dropped once the version after it
// has been valid for longer than `historyMs`.
//
// Memory: a key with one version (the common case) costs one Map entry (key → slot), one Float64 and one
// array slot; only keys that changed get a history object. Lookups are synchronous and allocate nothing.
import { VersionHistory } from './version-history.ts';

/** Why a lookup found no value. */
export type TableMiss =
  /** The table holds no version of the key at all. */
  | 'unknown_key'
  /** The version valid at that time is a tombstone. */
  | 'deleted'
  /** The time is before the oldest version kept (pruned by the history bound, or compacted away). */
  | 'before_history';

export interface VersionedTableOptions {
  /** How long a superseded version stays answerable after the version that replaced it became valid, in ms. */
  historyMs: number;
  /** Clock in epoch ms that the history bound is measured against. Default Date.now; tests pass a fake. */
  now?: () => number;
}

const INITIAL_SLOTS = 1024;

export class VersionedTable<V> {
  private readonly slotOf = new Map<string, number>();
  /** When the newest version of the slot's key became valid. */
  private validFrom = new Float64Array(INITIAL_SLOTS);
  /** The newest version: a value, null for a tombstone, undefined for a free slot. */
  private readonly newest: (V | null | undefined)[] = [];
  /** Older versions, only for keys that have them. */
  private readonly older = new Map<number, VersionHistory<V>>();
  /** Slots whose newest version is a tombstone: swept once they fall out of history. */
  private readonly tombstoned = new Set<number>();
  private readonly freeSlots: number[] = [];
  private readonly historyMs: number;
  private readonly now: () => number;
  private olderVersions = 0;

  constructor(options: VersionedTableOptions) {
    this.historyMs = options.historyMs;
    this.now = options.now ?? Date.now;
  }

  /** Keys held, tombstoned ones included. */
  get keys(): number {
    return this.slotOf.size;
  }

  /** Keys whose newest version is a value. */
  get liveKeys(): number {
    return this.slotOf.size - this.tombstoned.size;
  }

  /** Versions held, tombstones included. */
  get versions(): number {
    return this.slotOf.size + this.olderVersions;
  }

  /** Records that `key` has `value` from `validFrom` on; an earlier time than the newest is put in order. */
  put(key: string, validFrom: number, value: V): void {
    this.insert(key, validFrom, value);
  }

  /** Records that `key` is deleted from `validFrom` on (a tombstone). */
  delete(key: string, validFrom: number): void {
    this.insert(key, validFrom, null);
  }

  /** The value valid at `atTime`, or undefined (see `explainMiss` for why). */
  get(key: string, atTime: number): V | undefined {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return undefined;
    const value =
      (this.validFrom[slot] ?? Infinity) <= atTime ? this.newest[slot] : this.older.get(slot)?.at(atTime);
    return value ?? undefined;
  }

  /** Why `get(key, atTime)` returns undefined; undefined when it does not. */
  explainMiss(key: string, atTime: number): TableMiss | undefined {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return 'unknown_key';
    if ((this.validFrom[slot] ?? Infinity) <= atTime)
      return this.newest[slot] === null ? 'deleted' : undefined;
    const history = this.older.get(slot);
    if (history === undefined || !history.covers(atTime)) return 'before_history';
    return history.at(atTime) === null ? 'deleted' : undefined;
  }

  /**
   * Drops every version that fell out of the history bound, and forgets keys whose only version left is
   * an old tombstone; returns how many versions went. One pass over the keys only when some are forgotten.
   */
  prune(): number {
    const before = this.versions;
    for (const slot of [...this.older.keys()]) this.pruneSlot(slot);
    const expired = new Set<number>();
    for (const slot of this.tombstoned) if (this.isExpiredTombstone(slot)) expired.add(slot);
    if (expired.size > 0) this.free(expired);
    return before - this.versions;
  }

  private insert(key: string, validFrom: number, value: V | null): void {
    const slot = this.slotOf.get(key);
    if (slot === undefined) {
      this.setNewest(this.allocate(key), validFrom, value);
      return;
    }
    const newestFrom = this.validFrom[slot] ?? 0;
    if (validFrom >= newestFrom) {
      if (validFrom > newestFrom) this.pushOlder(slot, newestFrom, this.newest[slot] ?? null);
      this.setNewest(slot, validFrom, value);
    } else {
      const history = this.historyOf(slot);
      if (history.insert(validFrom, value)) this.olderVersions++;
    }
    this.pruneSlot(slot);
  }

  private setNewest(slot: number, validFrom: number, value: V | null): void {
    this.validFrom[slot] = validFrom;
    this.newest[slot] = value;
    if (value === null) this.tombstoned.add(slot);
    else this.tombstoned.delete(slot);
  }

  private pushOlder(slot: number, validFrom: number, value: V | null): void {
    this.historyOf(slot).append(validFrom, value);
    this.olderVersions++;
  }

  private historyOf(slot: number): VersionHistory<V> {
    let history = this.older.get(slot);
    if (history === undefined) {
      history = new VersionHistory<V>();
      this.older.set(slot, history);
    }
    return history;
  }

  /** Drops the slot's older versions whose successor became valid before the history horizon. */
  private pruneSlot(slot: number): void {
    const history = this.older.get(slot);
    if (history === undefined) return;
    const horizon = this.now() - this.historyMs;
    this.olderVersions -= history.dropSupersededBefore(horizon, this.validFrom[slot] ?? 0);
    if (history.size === 0) this.older.delete(slot);
  }

  private isExpiredTombstone(slot: number): boolean {
    const horizon = this.now() - this.historyMs;
    return this.newest[slot] === null && (this.validFrom[slot] ?? 0) <= horizon && !this.older.has(slot);
  }

  private allocate(key: string): number {
    const slot = this.freeSlots.pop() ?? this.newest.length;
    if (slot >= this.validFrom.length) {
      const grown = new Float64Array(this.validFrom.length * 2);
      grown.set(this.validFrom);
      this.validFrom = grown;
    }
    if (slot === this.newest.length) this.newest.push(undefined);
    this.slotOf.set(key, slot);
    return slot;
  }

  /** Slots do not remember their key (8 bytes per entry saved), so forgetting keys is one pass over them. */
  private free(slots: ReadonlySet<number>): void {
    for (const [key, slot] of this.slotOf) if (slots.has(slot)) this.slotOf.delete(key);
    for (const slot of slots) {
      this.newest[slot] = undefined;
      this.tombstoned.delete(slot);
      this.freeSlots.push(slot);
    }
  }
}
