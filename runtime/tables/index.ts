// Reference tables: compacted topics held in memory by every copy, versioned by valid time.
export { VersionedTable } from './versioned-table.ts';
export type { TableMiss, VersionedTableOptions } from './versioned-table.ts';
export { ReferenceTable, describeTableProgress } from './reference-table.ts';
export type { TableProgress, TableState, TableStats } from './reference-table.ts';
export { REFERENCE_TABLE_DEFAULTS, validTimeOf } from './table-options.ts';
export type { ReferenceTableOptions, ValidFrom } from './table-options.ts';
export type { TableVersion } from './table-records.ts';
export { TableMetrics } from './table-metrics.ts';
export type { TableStatsSource } from './table-metrics.ts';
export { approximateBytes } from './size-estimate.ts';
