// The harness side of a declared reference table: versions per key by valid time, fed by the test like
// a compacted topic (put / delete), read by the handler through `ctx.table(name).get(key, atMs)`.
// Kept to the small TableView interface so runtime/tables' VersionedTable can replace it unchanged.
import type { TableView } from '../app/index.ts';

interface Version<V> {
  validFromMs: number;
  /** null: deleted from validFromMs on (a tombstone). */
  value: V | null;
}

/** What a test feeds a reference table with. */
export interface TestTable<V> {
  put(key: string, value: V, validFromMs: number): void;
  delete(key: string, atMs: number): void;
}

export class InMemoryTable<V> implements TestTable<V>, TableView<V> {
  private readonly versions = new Map<string, Array<Version<V>>>();

  put(key: string, value: V, validFromMs: number): void {
    this.insert(key, { validFromMs, value });
  }

  delete(key: string, atMs: number): void {
    this.insert(key, { validFromMs: atMs, value: null });
  }

  /** The version valid at `atMs`: the newest with validFromMs <= atMs, unless it is a tombstone. */
  get(key: string, atMs: number): V | undefined {
    const history = this.versions.get(key) ?? [];
    let found: Version<V> | undefined;
    for (const version of history) if (version.validFromMs <= atMs) found = version;
    return found?.value ?? undefined;
  }

  private insert(key: string, version: Version<V>): void {
    // A later record for the same valid time replaces the earlier one, as compaction would.
    const history = (this.versions.get(key) ?? []).filter((v) => v.validFromMs !== version.validFromMs);
    history.push(version);
    history.sort((a, b) => a.validFromMs - b.validFromMs);
    this.versions.set(key, history);
  }
}
