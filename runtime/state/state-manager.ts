// Owns a processor's state stores for the partitions this copy is assigned: restores them from their
// compacted changelog topics, journals writes, and turns a batch's net changes into changelog records
// that go out in the batch's transaction (so state and offsets commit together).
import type { OutgoingMessage } from '../kafka/index.ts';
import type { Logger } from '../observability/index.ts';
import { TributaryError } from '../errors.ts';
import { PartitionStore } from './keyed-store.ts';
import type { JournalEntry, StoredEntry } from './keyed-store.ts';

/** Declares a keyed store in a processor definition; `V` is what the handler keeps per key. */
export interface StoreDeclaration<V> {
  readonly kind: 'keyed';
  /**
   * Entries removed by expireBefore/trimToSize are not written as tombstones; instead the changelog
   * is `compact,delete` with CHANGELOG_RETENTION_MS, so it stays bounded at one write per set().
   */
  readonly localExpiry: boolean;
  /** Most entries kept per partition, also while restoring (oldest dropped first); from the config. */
  readonly maxEntries?: (config: Record<string, unknown>) => number;
  readonly _value?: V;
}

/** How long a local-expiry store's changelog keeps a record; its entries must expire sooner. */
export const CHANGELOG_RETENTION_MS = 24 * 60 * 60 * 1000;

export function keyedStore<V>(
  options: { localExpiry?: boolean; maxEntries?: (config: Record<string, unknown>) => number } = {},
): StoreDeclaration<V> {
  const declaration = { kind: 'keyed' as const, localExpiry: options.localExpiry ?? false };
  return options.maxEntries === undefined ? declaration : { ...declaration, maxEntries: options.maxEntries };
}

/** Where restore reads committed changelog records from (Kafka in production, nothing in memory). */
export type ChangelogReader = (
  topic: string,
  partitions: readonly number[],
  onRecord: (partition: number, key: Buffer | null, value: Buffer | null) => void,
) => Promise<void>;

function encode(entry: StoredEntry<unknown> | undefined): Buffer | null {
  return entry === undefined ? null : Buffer.from(JSON.stringify({ v: entry.value, t: entry.time }));
}

function decode(value: Buffer | null): StoredEntry<unknown> | undefined {
  if (value === null) return undefined;
  const parsed = JSON.parse(value.toString('utf8')) as { v: unknown; t: number };
  return { value: parsed.v, time: parsed.t };
}

export class StateManager {
  private readonly journal: JournalEntry[] = [];
  private readonly stores = new Map<string, PartitionStore<unknown>>();
  private readonly ready = new Set<number>();
  private restoring = false;

  readonly storeNames: readonly string[];

  constructor(
    private readonly declarations: Readonly<Record<string, StoreDeclaration<unknown>>>,
    private readonly changelogTopicFor: (store: string) => string,
    private readonly readChangelog: ChangelogReader | undefined,
    private readonly log: Logger,
    private readonly config: Record<string, unknown> = {},
  ) {
    this.storeNames = Object.keys(declarations);
  }

  private newStore(name: string, partition: number): PartitionStore<unknown> {
    return new PartitionStore<unknown>(
      name,
      partition,
      this.journal,
      this.declarations[name]?.localExpiry === true,
    );
  }

  get isRestoring(): boolean {
    return this.restoring;
  }

  store(name: string, partition: number): PartitionStore<unknown> {
    const key = `${name}/${partition}`;
    let store = this.stores.get(key);
    if (store === undefined) {
      if (!this.storeNames.includes(name)) throw new Error(`no state store "${name}" is declared`);
      if (this.readChangelog !== undefined && !this.ready.has(partition)) {
        throw new TributaryError(
          'TRIBUTARY_STATE_RESTORE_FAILED',
          `state of partition ${partition} is not restored`,
        );
      }
      store = this.newStore(name, partition);
      this.stores.set(key, store);
    }
    return store;
  }

  /** Drops state of partitions no longer assigned and restores newly assigned ones from the changelog. */
  async sync(assigned: readonly number[]): Promise<void> {
    if (this.storeNames.length === 0) return;
    const keep = new Set(assigned);
    for (const [key, store] of this.stores) {
      if (!keep.has(store.partition)) this.stores.delete(key);
    }
    for (const partition of [...this.ready]) if (!keep.has(partition)) this.ready.delete(partition);
    const missing = assigned.filter((p) => !this.ready.has(p));
    if (missing.length === 0 || this.readChangelog === undefined) {
      for (const p of missing) this.ready.add(p);
      return;
    }
    this.restoring = true;
    try {
      for (const name of this.storeNames) await this.restoreStore(name, missing);
    } finally {
      this.restoring = false;
    }
    for (const p of missing) this.ready.add(p);
  }

  private async restoreStore(name: string, partitions: number[]): Promise<void> {
    const started = Date.now();
    let records = 0;
    const stores = new Map(partitions.map((p) => [p, this.newStore(name, p)]));
    const limit = this.declarations[name]?.maxEntries?.(this.config) ?? Number.POSITIVE_INFINITY;
    await this.readChangelog?.(this.changelogTopicFor(name), partitions, (partition, key, value) => {
      if (key === null) return;
      const store = stores.get(partition);
      store?.restore(key.toString('utf8'), decode(value));
      // Keeps memory bounded when the changelog holds more than the store may keep (local expiry).
      if (store !== undefined && store.size > limit) store.dropOldest();
      records++;
    });
    for (const [partition, store] of stores) this.stores.set(`${name}/${partition}`, store);
    const entries = [...stores.values()].reduce((sum, s) => sum + s.size, 0);
    this.log.info(
      { store: name, partitions, records, entries, ms: Date.now() - started },
      `restored state store ${name}`,
    );
  }

  /** A point to roll back to if the current record is rejected. */
  savepoint(): number {
    return this.journal.length;
  }

  rollbackTo(savepoint: number): void {
    while (this.journal.length > savepoint) {
      const entry = this.journal.pop();
      entry?.store.undo(entry.key, entry.previous);
    }
  }

  /** The net change of every key written since the last commit, as changelog records. */
  changelogMessages(): OutgoingMessage[] {
    const seen = new Set<string>();
    const messages: OutgoingMessage[] = [];
    for (const { store, key, logged } of this.journal) {
      if (!logged) continue;
      const id = `${store.name}/${store.partition}/${key}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const topic = this.changelogTopicFor(store.name);
      messages.push({
        topic,
        partition: store.partition,
        key: Buffer.from(key),
        value: encode(store.current(key)),
      });
    }
    return messages;
  }

  commit(): void {
    this.journal.length = 0;
  }

  rollback(): void {
    this.rollbackTo(0);
  }
}
