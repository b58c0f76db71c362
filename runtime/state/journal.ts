// What every kind of partition store offers the StateManager: undoable writes (a journal shared by the
// partition's stores, so a savepoint is one number), its net changes as changelog records, restore.

/** One changelog record of a store partition; a null value deletes the key (a tombstone). */
export interface ChangelogRecord {
  key: Buffer;
  value: Buffer | null;
  /** Record time (ms); unset: the producer's clock. */
  timestamp?: number;
}

export interface JournaledStore {
  readonly name: string;
  readonly partition: number;
  /** The net changes since the last commit; `changedKeys` are the keys its journal entries name. */
  changelogRecords(changedKeys: ReadonlySet<string>): ChangelogRecord[];
  /** The batch committed: what was pending is now the committed state. */
  commit(): void;
  /** Applies one committed changelog record during restore, in offset order. */
  applyRestored(key: Buffer, value: Buffer | null): void;
  /** Every record of the changelog was applied. */
  finishRestore(): void;
  /** Entries held (for logs and metrics). */
  readonly size: number;
}

export interface JournalEntry {
  readonly store: JournaledStore;
  /** The changed key, for stores whose changelog has one record per key; undefined: none. */
  readonly key: string | undefined;
  undo(): void;
}
