// The harness side of a declared reference table: runtime/tables' VersionedTable (versions per key by
// valid time, history bounded against the driver's wall clock), fed by the test like its compacted
// topic (put / delete), read by the handler through `ctx.table(name).get(key, atMs)`.
import type { TableView } from '../app/index.ts';
import { REFERENCE_TABLE_DEFAULTS, VersionedTable } from '../tables/index.ts';
import type { TableMiss } from '../tables/index.ts';

/** What a test feeds a reference table with. */
export interface TestTable<V> {
  put(key: string, value: V, validFromMs: number): void;
  delete(key: string, atMs: number): void;
}

export class InMemoryTable<V> implements TestTable<V>, TableView<V> {
  private readonly table: VersionedTable<V>;

  constructor(now: () => number) {
    this.table = new VersionedTable<V>({ historyMs: REFERENCE_TABLE_DEFAULTS.historyMs, now });
  }

  put(key: string, value: V, validFromMs: number): void {
    this.table.put(key, validFromMs, value);
  }

  delete(key: string, atMs: number): void {
    this.table.delete(key, atMs);
  }

  get(key: string, atMs: number): V | undefined {
    return this.table.get(key, atMs);
  }

  explainMiss(key: string, atMs: number): TableMiss | undefined {
    return this.table.explainMiss(key, atMs);
  }
}
