// The ClickHouse connector: the sink definition, the query endpoint and what the CLI needs to query.
export { clickhouseSink, engineVersion } from './clickhouse-sink.ts';
export { clickhouseConfigShape } from './config.ts';
export { openClickHouse } from './connection.ts';
export type { ClickHouseHandle } from './connection.ts';
export { lockOwner, lockDataDir } from './data-dir-lock.ts';
export { chdbExecutor } from './query/chdb-executor.ts';
export { startQueryEndpoint } from './query/http-endpoint.ts';
export type { QueryEndpoint } from './query/http-endpoint.ts';
export { QueryFailed, readResults, runningEndpoint, selectRows } from './query/read-results.ts';
export type { CompactResult, ResultsSettings } from './query/read-results.ts';
