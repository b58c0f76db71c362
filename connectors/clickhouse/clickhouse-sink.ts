// clickhouse-sink: lands topics in ClickHouse tables, one declared binding per topic. Adding a table is
// a migration plus a binding here; the runtime's sink loop does the batching, retries, dead letters and
// offsets, and this file only opens the store.
import { TributaryError, avro, defineSink, isTributaryError } from '../../runtime/index.ts';
import type { SinkConfig, SinkConnector, SinkOpenContext } from '../../runtime/index.ts';
import { version as chdbVersion } from 'chdb';
import { clickhouseConfigShape } from './config.ts';
import { openClickHouse } from './connection.ts';
import { checkServerAccess } from './server-check.ts';
import { queryEndpointTls } from './server-tls.ts';
import type { ClickHouseHandle } from './connection.ts';
import { ClickHouseConnector } from './connector.ts';
import { migrate } from './migrations.ts';
import { chdbExecutor } from './query/chdb-executor.ts';
import { startQueryEndpoint } from './query/http-endpoint.ts';
import type { QueryEndpoint } from './query/http-endpoint.ts';
import { describeTable } from './tables.ts';
import type { TargetTable } from './tables.ts';

type Config = SinkConfig<typeof clickhouseConfigShape>;

export const clickhouseSink = defineSink({
  name: 'clickhouse-sink',
  description: 'writes topics into ClickHouse tables, exactly once, resuming from what the tables hold',
  bindings: [
    { topic: 'requests.valid', value: avro('RequestEvent'), target: 'requests', deadLetter: 'requests.dlq' },
    // The enriched events land in the same table (their own _topic), with the enrichment columns set.
    {
      topic: 'requests.enriched',
      value: avro('EnrichedRequest'),
      target: 'requests',
      deadLetter: 'requests.dlq',
    },
    { topic: 'requests.dlq', value: avro('DeadLetter'), target: 'dead_letters' },
    // The aggregate's one-minute stats, every revision a row of its own (sum() over them is exact).
    { topic: 'stats.1m', value: avro('StatsMinute'), target: 'request_stats_1m' },
    // Every alert edge, as the notifier delivers it; and the alerts a receiver refused for good.
    { topic: 'alerts', value: avro('AlertEvent'), target: 'alerts' },
    { topic: 'notifier.dlq', value: avro('DeadLetter'), target: 'dead_letters' },
  ],
  deadLetter: 'clickhouse-sink.dlq',
  config: clickhouseConfigShape,
  open: openSink,
});

async function openSink(ctx: SinkOpenContext<Config>): Promise<SinkConnector> {
  const { config, log } = ctx;
  const handle = openClickHouse(config, 'clickhouse-sink');
  let endpoint: QueryEndpoint | undefined;
  try {
    log.info({ mode: handle.mode, dataDir: handle.dataDir, url: config.clickhouseUrl }, 'ClickHouse opened');
    if (config.clickhouseUrl !== undefined)
      await checkServerAccess(handle.client, config.clickhouseUrl, config.clickhouseUser);
    await migrate(handle.client, log);
    const tables = new Map<string, TargetTable>();
    for (const { target } of clickhouseSink.bindings) {
      if (!tables.has(target))
        tables.set(target, await describeTable(handle.client, config.clickhouseDatabase, target));
    }
    endpoint = await maybeStartEndpoint(config, handle, ctx);
    const close = async (): Promise<void> => {
      await endpoint?.close();
      await handle.close();
    };
    // Embedded: this process is the only writer (the data-dir lock, taken before the group is joined),
    // so no claims and no lease, and one insert per target across partitions.
    const embedded = handle.mode === 'embedded';
    const insertLeaseMs = embedded ? 0 : config.clickhouseInsertLeaseMs;
    return new ClickHouseConnector(handle.client, tables, close, { insertLeaseMs, singleWriter: embedded });
  } catch (error) {
    await endpoint?.close();
    await handle.close();
    throw error;
  }
}

async function maybeStartEndpoint(
  config: Config,
  handle: ClickHouseHandle,
  ctx: SinkOpenContext<Config>,
): Promise<QueryEndpoint | undefined> {
  if (handle.mode !== 'embedded' || handle.dataDir === undefined || config.queryPort < 0) return undefined;
  const endpoint = await startQueryEndpoint({
    host: config.queryHost,
    port: config.queryPort,
    executor: chdbExecutor(handle.dataDir, true),
    readOnly: true,
    version: engineVersion(),
    log: ctx.log,
    ...queryEndpointTls(config),
    access: {
      user: config.queryUser,
      password: config.queryPassword,
      allowedOrigins: config.queryAllowedOrigins
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== ''),
    },
    limits: {
      maxExecutionTimeS: config.queryMaxExecutionTimeS,
      maxMemoryBytes: config.queryMaxMemoryBytes,
      maxResultRows: config.queryMaxResultRows,
      maxResultBytes: config.queryMaxResultBytes,
      maxThreads: config.queryMaxThreads,
      maxConcurrentQueries: config.queryMaxConcurrent,
      maxBodyBytes: config.queryMaxBodyBytes,
    },
  }).catch((error: unknown) => {
    if (isTributaryError(error)) throw error;
    throw new TributaryError(
      'TRIBUTARY_CLICKHOUSE_QUERY_PORT_UNAVAILABLE',
      `cannot serve the query endpoint on ${config.queryHost}:${config.queryPort} (${String(error)}); ` +
        'set TRIBUTARY_QUERY_PORT to a free port, 0 for any, or -1 for none',
      { cause: error },
    );
  });
  handle.lock?.setQueryUrl(endpoint.url);
  ctx.log.info({ url: endpoint.url }, `read-only ClickHouse HTTP interface on ${endpoint.url}`);
  return endpoint;
}

export function engineVersion(): string {
  const info = (chdbVersion as unknown as () => { libchdb?: string } | string)();
  const raw = typeof info === 'string' ? info : (info.libchdb ?? 'chdb');
  return raw.replace(/"/g, '');
}
