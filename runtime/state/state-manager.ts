// Owns a processor's state stores for the partitions this copy is assigned: restores them from their
// compacted changelog topics, journals writes, and turns a batch's net changes into changelog records
// that go out in the batch's transaction (so state and offsets commit together).
import type { OutgoingMessage, RebalanceListener } from '../kafka/index.ts';
import type { Logger } from '../observability/index.ts';
import { TributaryError } from '../errors.ts';
import { PartitionStore } from './keyed-store.ts';
import { PartitionRecentIds } from './recent-ids.ts';
import { PartitionWindowedStore } from './windowed-store.ts';
import type { JournalEntry, JournaledStore } from './journal.ts';
import type { StoreDeclaration } from './declarations.ts';
import type { KeyedEntry, StoreCodec, StoreCodecs, WindowedEntry } from './store-codecs.ts';
import { OrderedRestore } from './ordered-restore.ts';

/** Where restore reads committed changelog records from (Kafka in production, nothing in memory). */
export type ChangelogReader = (
  topic: string,
  partitions: readonly number[],
  onRecord: (partition: number, key: Buffer | null, value: Buffer | null) => void,
) => Promise<void>;

export type AnyPartitionStore =
  PartitionStore<unknown> | PartitionRecentIds | PartitionWindowedStore<unknown>;

export interface StateManagerOptions {
  declarations: Readonly<Record<string, StoreDeclaration>>;
  changelogTopicFor: (store: string) => string;
  /** Undefined: nothing to restore from (every partition starts empty). */
  readChangelog: ChangelogReader | undefined;
  log: Logger;
  /** Each keyed and windowed store's changelog codec (`buildStoreCodecs`). */
  codecs?: StoreCodecs;
  config?: Record<string, unknown>;
  /**
   * Deep-freeze every value a keyed or windowed store is given (the test driver's setting): a handler
   * that changes a stored object in place, instead of setting a new one, throws at once, since the
   * journal's undo would put back the changed object and an aborted batch would count twice.
   */
  freezeValues?: boolean;
}

export class StateManager {
  private readonly journal: JournalEntry[] = [];
  /** The keys journaled below `keptUpTo`, each by one entry: what `keep` has compacted. */
  private readonly keptKeys = new Map<JournaledStore, Set<string>>();
  private keptUpTo = 0;
  private readonly stores = new Map<string, AnyPartitionStore>();
  private readonly ready = new Set<number>();
  /** Bumped per partition on revocation, so a restore that raced it does not install stale stores. */
  private readonly releases = new Map<number, number>();
  private restoring = false;
  /** Stores whose kept horizon was short at the last commit (logged on change only). */
  private readonly shortHorizons = new Set<string>();

  readonly storeNames: readonly string[];
  private readonly declarations: Readonly<Record<string, StoreDeclaration>>;
  private readonly changelogTopicFor: (store: string) => string;
  private readonly readChangelog: ChangelogReader | undefined;
  private readonly log: Logger;
  private readonly codecs: StoreCodecs;
  private readonly config: Record<string, unknown>;
  private readonly freezeValues: boolean;

  constructor(options: StateManagerOptions) {
    ({ declarations: this.declarations, changelogTopicFor: this.changelogTopicFor, log: this.log } = options);
    this.readChangelog = options.readChangelog;
    this.codecs = options.codecs ?? new Map();
    this.config = options.config ?? {};
    this.freezeValues = options.freezeValues ?? false;
    const { declarations, log } = this;
    this.storeNames = Object.keys(declarations);
    for (const { store, configuredMs, maxIds } of this.horizonDeclarations()) {
      const perSecond = Math.floor(maxIds / (configuredMs / 1000));
      log.info(
        {
          store,
          horizonMs: configuredMs,
          maxIdsPerPartition: maxIds,
          holdsUpToPerSecondPerPartition: perSecond,
        },
        `state store ${store} remembers ids for ${configuredMs / 1000} s, at most ${maxIds} per partition: ` +
          `the horizon holds up to ${perSecond} records/s per partition, above that it keeps less and says so ` +
          `(log, /readyz, tributary_state_horizon_seconds)`,
      );
    }
  }

  private horizonDeclarations(): Array<{ store: string; configuredMs: number; maxIds: number }> {
    return Object.entries(this.declarations).flatMap(([store, d]) =>
      d.kind === 'recentIds'
        ? [{ store, configuredMs: d.horizonMs(this.config), maxIds: d.maxIdsPerPartition(this.config) }]
        : [],
    );
  }

  /** Per recent-ids store: its configured horizon and the shortest one a held partition really keeps. */
  horizons(): Array<{ store: string; configuredMs: number; keptMs: number }> {
    return this.horizonDeclarations().map(({ store, configuredMs }) => {
      let keptMs = configuredMs;
      for (const held of this.stores.values())
        if (held.name === store && held instanceof PartitionRecentIds)
          keptMs = Math.min(keptMs, held.keptHorizonMs);
      return { store, configuredMs, keptMs };
    });
  }

  /** Null when every horizon holds; otherwise what to say in /readyz. */
  horizonShortfall(): string | null {
    const short = this.horizons().filter((h) => h.keptMs < h.configuredMs);
    if (short.length === 0) return null;
    return short
      .map(
        (h) => `${h.store} keeps ${Math.round(h.keptMs / 1000)} s of its ${h.configuredMs / 1000} s horizon`,
      )
      .join('; ');
  }

  private logHorizonChanges(): void {
    for (const { store, configuredMs, keptMs } of this.horizons()) {
      const short = keptMs < configuredMs;
      if (short === this.shortHorizons.has(store)) continue;
      if (short) this.shortHorizons.add(store);
      else this.shortHorizons.delete(store);
      const fields = { store, horizonMs: configuredMs, keptHorizonMs: keptMs };
      if (short)
        this.log.warn(
          fields,
          `state store ${store} hit its id cap: it keeps only ${Math.round(keptMs / 1000)} s of its ${configuredMs / 1000} s horizon`,
        );
      else
        this.log.info(fields, `state store ${store} keeps its whole ${configuredMs / 1000} s horizon again`);
    }
  }

  private newStore(name: string, partition: number): AnyPartitionStore {
    const declaration = this.declarations[name];
    if (declaration?.kind === 'recentIds') {
      return new PartitionRecentIds(name, partition, this.journal, {
        horizonMs: declaration.horizonMs(this.config),
        maxIds: declaration.maxIdsPerPartition(this.config),
      });
    }
    const codec = this.codecOf(name);
    if (declaration?.kind === 'windowed')
      return new PartitionWindowedStore(
        name,
        partition,
        this.journal,
        codec as StoreCodec<WindowedEntry>,
        this.freezeValues,
      );
    const maxEntries = declaration?.maxEntries?.(this.config) ?? Number.POSITIVE_INFINITY;
    return new PartitionStore(name, partition, this.journal, {
      codec: codec as StoreCodec<KeyedEntry>,
      localExpiry: declaration?.localExpiry === true,
      maxEntries,
      freezeValues: this.freezeValues,
    });
  }

  private codecOf(name: string): StoreCodec<unknown> {
    const codec = this.codecs.get(name);
    if (codec === undefined)
      throw new TributaryError(
        'TRIBUTARY_INTERNAL_INVARIANT',
        `state store ${name} has no changelog codec (buildStoreCodecs makes one per keyed or windowed store)`,
      );
    return codec;
  }

  get isRestoring(): boolean {
    return this.restoring;
  }

  store(name: string, partition: number): AnyPartitionStore {
    const key = `${name}/${partition}`;
    let store = this.stores.get(key);
    if (store === undefined) {
      if (!this.storeNames.includes(name))
        throw new TributaryError('TRIBUTARY_STATE_UNDECLARED', `no state store "${name}" is declared`);
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

  /** The stores this copy holds now (all partitions, all names). */
  heldStores(): IterableIterator<AnyPartitionStore> {
    return this.stores.values();
  }

  /**
   * Forgets the partitions' stores at once (they were revoked: another copy may change their changelog
   * before they come back, so a later assignment must restore them).
   */
  release(partitions: readonly number[]): void {
    const gone = new Set(partitions);
    for (const [key, store] of this.stores) if (gone.has(store.partition)) this.stores.delete(key);
    for (const partition of gone) {
      this.ready.delete(partition);
      this.releases.set(partition, (this.releases.get(partition) ?? 0) + 1);
    }
  }

  /** Releases the input topic's partitions on revocation, for `InputConsumer.addRebalanceListener`. */
  rebalanceListener(inputTopic: string): RebalanceListener {
    return {
      onRevoked: (revoked) =>
        this.release(revoked.filter((tp) => tp.topic === inputTopic).map((tp) => tp.partition)),
    };
  }

  /** Drops state of partitions no longer assigned and restores newly assigned ones from the changelog. */
  async sync(assigned: readonly number[]): Promise<void> {
    if (this.storeNames.length === 0) return;
    const keep = new Set(assigned);
    this.release([...this.ready].filter((p) => !keep.has(p)));
    const missing = assigned.filter((p) => !this.ready.has(p));
    if (missing.length === 0 || this.readChangelog === undefined) {
      for (const p of missing) this.ready.add(p);
      return;
    }
    const releasesBefore = new Map(missing.map((p) => [p, this.releases.get(p) ?? 0]));
    this.restoring = true;
    let restored: AnyPartitionStore[] = [];
    try {
      // In parallel: each store's reader pays its own connect and end-offset round trips (~1 s).
      restored = (await Promise.all(this.storeNames.map((name) => this.restoreStore(name, missing)))).flat();
    } finally {
      this.restoring = false;
    }
    const stillOwned = missing.filter((p) => (this.releases.get(p) ?? 0) === releasesBefore.get(p));
    for (const store of restored)
      if (stillOwned.includes(store.partition)) this.stores.set(`${store.name}/${store.partition}`, store);
    for (const p of stillOwned) this.ready.add(p);
  }

  private async restoreStore(name: string, partitions: number[]): Promise<AnyPartitionStore[]> {
    const started = Date.now();
    let records = 0;
    let bytes = 0;
    const stores = new Map(partitions.map((p) => [p, this.newStore(name, p)]));
    const restore = new OrderedRestore(this.codecs.get(name), (partition, key, value) =>
      stores.get(partition)?.applyRestored(key, value),
    );
    await this.readChangelog?.(this.changelogTopicFor(name), partitions, (partition, key, value) => {
      if (key === null) return;
      restore.push(partition, key, value);
      records++;
      bytes += key.length + (value?.length ?? 0);
    });
    await restore.finish();
    for (const store of stores.values()) store.finishRestore();
    const entries = [...stores.values()].reduce((sum, s) => sum + s.size, 0);
    this.log.info(
      { store: name, partitions, records, bytes, entries, ms: Date.now() - started },
      `restored state store ${name}`,
    );
    return [...stores.values()];
  }

  /** A point to roll back to if the current record is rejected. */
  savepoint(): number {
    return this.journal.length;
  }

  rollbackTo(savepoint: number): void {
    while (this.journal.length > savepoint) {
      const entry = this.journal.pop();
      if (entry === undefined) break;
      // Below the kept frontier, an entry with a key is that key's only one: the key is journaled no more.
      if (this.journal.length < this.keptUpTo && entry.key !== undefined)
        this.keptKeys.get(entry.store)?.delete(entry.key);
      entry.undo();
    }
    this.keptUpTo = Math.min(this.keptUpTo, savepoint);
  }

  /**
   * The record since `savepoint` is kept, so it can no longer be rolled back alone, only with the whole
   * batch: for a key the batch had already journaled, its entries of this record go. Rolling the batch
   * back needs only each key's first undo, and without this the journal would hold every intermediate
   * value of a key the batch changes again and again (an aggregate's window, once per event) until the
   * commit, long enough for the garbage collector to move all of them to the old generation.
   * Only for a savepoint inside no other but the batch's start (a record's, not a timer tick's).
   */
  keep(savepoint: number): void {
    let kept = savepoint;
    for (let at = savepoint; at < this.journal.length; at++) {
      const entry = this.journal[at];
      if (entry === undefined) continue;
      if (entry.key !== undefined) {
        let keys = this.keptKeys.get(entry.store);
        if (keys === undefined) this.keptKeys.set(entry.store, (keys = new Set()));
        if (keys.has(entry.key)) continue;
        keys.add(entry.key);
      }
      this.journal[kept++] = entry;
    }
    this.journal.length = kept;
    this.keptUpTo = kept;
  }

  /** The net change of every store written since the last commit, as changelog records. */
  changelogMessages(): OutgoingMessage[] {
    const changedKeys = new Map<JournaledStore, Set<string>>();
    for (const { store, key } of this.journal) {
      let keys = changedKeys.get(store);
      if (keys === undefined) changedKeys.set(store, (keys = new Set()));
      if (key !== undefined) keys.add(key);
    }
    const messages: OutgoingMessage[] = [];
    // Every held store, not only the journaled ones: a restored store may owe tombstones (stale keys).
    for (const store of new Set<JournaledStore>([...changedKeys.keys(), ...this.stores.values()])) {
      const topic = this.changelogTopicFor(store.name);
      for (const record of store.changelogRecords(changedKeys.get(store) ?? new Set()))
        messages.push({ topic, partition: store.partition, ...record });
    }
    return messages;
  }

  commit(): void {
    for (const store of new Set<JournaledStore>([
      ...this.journal.map((e) => e.store),
      ...this.stores.values(),
    ]))
      store.commit();
    this.journal.length = 0;
    this.keptKeys.clear();
    this.keptUpTo = 0;
    this.logHorizonChanges();
  }

  rollback(): void {
    this.rollbackTo(0);
  }
}
