// Prometheus metrics of a process's reference tables, read from the tables when scraped. The `table`
// label is a declared table name (a small closed set).
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { TableStats } from './reference-table.ts';

export interface TableStatsSource {
  readonly name: string;
  stats(): TableStats;
}

type TableGauge = Gauge<'table'>;

export class TableMetrics {
  private readonly tables = new Map<string, TableStatsSource>();

  constructor(
    registry: Registry,
    private readonly now: () => number = Date.now,
  ) {
    const registers = [registry];
    this.gauge(
      registers,
      'tributary_table_entries',
      'Keys whose newest version is a value',
      (s) => s.entries,
    );
    this.gauge(
      registers,
      'tributary_table_versions',
      'Versions held, tombstones included',
      (s) => s.versions,
    );
    this.gauge(registers, 'tributary_table_bytes', 'Estimated heap bytes of the table', (s) => s.bytes);
    this.gauge(
      registers,
      'tributary_table_lag_records',
      'Records of the table topic not yet applied (not fetched, or waiting for the next poll)',
      (s) => s.lag,
    );
    this.gauge(
      registers,
      'tributary_table_last_update_age_seconds',
      'Seconds since the record timestamp of the newest update applied',
      (s) => (s.lastUpdateAt === undefined ? undefined : (this.now() - s.lastUpdateAt) / 1000),
    );
    const tables = this.tables;
    new Counter({
      name: 'tributary_table_records_total',
      help: 'Table records by outcome: applied, or rejected (no key, undecodable, no valid time)',
      labelNames: ['table', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const [table, source] of tables) {
          const stats = source.stats();
          this.inc({ table, outcome: 'applied' }, stats.applied);
          this.inc({ table, outcome: 'rejected' }, stats.rejected);
        }
      },
    });
  }

  track(table: TableStatsSource): void {
    this.tables.set(table.name, table);
  }

  private gauge(
    registers: Registry[],
    name: string,
    help: string,
    read: (stats: TableStats) => number | undefined,
  ): TableGauge {
    const tables = this.tables;
    return new Gauge({
      name,
      help,
      labelNames: ['table'],
      registers,
      collect() {
        this.reset();
        for (const [table, source] of tables) {
          const value = read(source.stats());
          if (value !== undefined) this.set({ table }, value);
        }
      },
    });
  }
}
