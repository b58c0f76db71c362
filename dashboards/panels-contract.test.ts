// Every panel query against the tables' contracts, without a pipeline: the sink's real migrations, and for
// a table no migration creates yet (request_stats_1m, alerts: other stages land them) one made from its Avro
// record's fields as the design names them, plus the sink's meta columns. Rows are filled by column type.
// This catches a wrong column or type early; test/e2e/dashboards.test.ts checks the same panels on a real run.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse } from '../connectors/clickhouse/connection.ts';
import type { ClickHouseHandle } from '../connectors/clickhouse/connection.ts';
import { loadMigrations } from '../connectors/clickhouse/migrations.ts';
import { SCHEMAS_DIR } from '../runtime/serde/schema-loader.ts';
import { checkDashboardPanels } from './check-panels.ts';

/** Tables the dashboards read that another stage's migration creates, from their records. */
const FROM_RECORDS: Record<string, { schema: string; orderBy: string }> = {
  request_stats_1m: {
    schema: 'stats-minute.avsc',
    orderBy: '(service, window_start, endpoint, region, revision)',
  },
  alerts: { schema: 'alert-event.avsc', orderBy: '(service, at)' },
};
// The design's view (migration 006 brings the real one): episodes whose FIRING has no RESOLVED.
const FIRING_NOW_VIEW = `CREATE VIEW IF NOT EXISTS alerts_firing_now AS SELECT * FROM alerts WHERE state = 'FIRING'
  AND alert_id NOT IN (SELECT alert_id FROM alerts WHERE state = 'RESOLVED')`;
const NOW = Date.now();

type AvroType =
  | string
  | { type: string; logicalType?: string; items?: AvroType; values?: AvroType; symbols?: string[] }
  | AvroType[];

function columnType(type: AvroType): string {
  if (Array.isArray(type)) return `Nullable(${columnType(type.find((t) => t !== 'null') ?? 'string')})`;
  if (typeof type === 'object') {
    if (type.logicalType === 'timestamp-millis') return "DateTime64(3, 'UTC')";
    if (type.type === 'array') return `Array(${columnType(type.items ?? 'string')})`;
    if (type.type === 'map') return `Map(String, ${columnType(type.values ?? 'string')})`;
    if (type.type === 'enum')
      return `Enum8(${(type.symbols ?? []).map((s, i) => `'${s}' = ${i + 1}`).join(', ')})`;
    return columnType(type.type);
  }
  const scalar: Record<string, string> = {
    string: 'String',
    long: 'Int64',
    int: 'Int32',
    double: 'Float64',
    boolean: 'Bool',
  };
  return scalar[type] ?? 'String';
}

function tableFromRecord(table: string, schema: string, orderBy: string): string {
  const record = JSON.parse(readFileSync(join(SCHEMAS_DIR, schema), 'utf8')) as {
    fields: { name: string; type: AvroType }[];
  };
  const columns = record.fields.map((f) => `${f.name} ${columnType(f.type)}`);
  const meta = [
    '_topic LowCardinality(String)',
    '_partition UInt16',
    '_offset UInt64',
    "_inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)",
  ];
  return `CREATE TABLE IF NOT EXISTS ${table} (${[...columns, ...meta].join(', ')}) ENGINE = MergeTree ORDER BY ${orderBy}`;
}

/** A value of a ClickHouse type for row `i`: a few services and regions, times in the last hour. */
function valueFor(type: string, column: string, i: number): unknown {
  const inner = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(type)?.[1];
  if (inner !== undefined) return valueFor(inner, column, i);
  if (type.startsWith('DateTime'))
    return new Date(NOW - (i % 50) * 60_000).toISOString().replace('T', ' ').slice(0, 23);
  if (type.startsWith('Enum8')) return /'([^']+)'/g.exec(type.split(',')[i % 2] ?? '')?.[1];
  if (type.startsWith('Array')) return /Int|Float/.test(type) ? [1 + (i % 3), 2 + (i % 3), 3 + (i % 3)] : [];
  if (type.startsWith('Map')) return {};
  if (/^(U?Int|Float)/.test(type)) return column === 'revision' ? i % 2 : 1 + (i % 7);
  if (type === 'Bool') return i % 2 === 0;
  const pools: Record<string, string[]> = {
    service: ['checkout', 'search'],
    region: ['eu-west-1', 'us-east-1'],
  };
  return (pools[column] ?? [`${column}-a`, `${column}-b`])[i % 2];
}

let handle: ClickHouseHandle;

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-panels-'));
  const settings = {
    clickhouseDataDir: dataDir,
    clickhouseUser: 'default',
    clickhousePassword: '',
    clickhouseDatabase: 'default',
  };
  handle = openClickHouse(settings, 'panels-test');
  for (const { statements } of loadMigrations())
    for (const query of statements) await handle.client.command({ query });
  for (const [table, { schema, orderBy }] of Object.entries(FROM_RECORDS))
    await handle.client.command({ query: tableFromRecord(table, schema, orderBy) });
  await handle.client.command({ query: FIRING_NOW_VIEW });
  for (const table of ['requests', 'dead_letters', ...Object.keys(FROM_RECORDS)]) {
    const columns = await (
      await handle.client.query({
        query: `SELECT name, type FROM system.columns WHERE table = '${table}' AND default_kind = ''`,
        format: 'JSONEachRow',
      })
    ).json<{ name: string; type: string }>();
    const rows = Array.from({ length: 40 }, (_, i) =>
      Object.fromEntries(columns.map((c) => [c.name, valueFor(c.type, c.name, i)])),
    );
    await handle.client.insert({ table, values: rows, format: 'JSONEachRow' });
  }
});

afterAll(async () => {
  await handle.close();
});

describe('every panel query against the tables it reads', () => {
  it('runs and returns rows of the shape its panel needs', async () => {
    const checks = await checkDashboardPanels(handle.client, { fromMs: NOW - 3_600_000, toMs: NOW + 60_000 });
    const bad = checks.filter((c) => c.status !== 'ok' || c.rows === 0);
    expect(
      bad.map(
        (c) => `${c.dashboard} / ${c.panel} (${c.selection}): ${c.status} ${c.problem ?? `${c.rows} rows`}`,
      ),
    ).toEqual([]);
    expect(checks.length).toBeGreaterThan(30);
  });
});
