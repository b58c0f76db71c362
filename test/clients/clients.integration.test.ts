// The query endpoint spoken by the clients people point at it: Go clickhouse-go (as Grafana's plugin
// uses it), Python clickhouse-connect, @clickhouse/client and curl, over the sink's own tables (applied
// migrations, rows of every column type). The Go program and the Python venv come from `./tributary
// setup` (step "query clients"); a missing one fails the test with the reason, never skips it.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient } from '@clickhouse/client';
import { Session } from 'chdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../runtime/index.ts';
import { openClickHouse } from '../../connectors/clickhouse/connection.ts';
import { migrate } from '../../connectors/clickhouse/migrations.ts';
import { chdbExecutor } from '../../connectors/clickhouse/query/chdb-executor.ts';
import { startQueryEndpoint } from '../../connectors/clickhouse/query/http-endpoint.ts';
import type { QueryEndpoint } from '../../connectors/clickhouse/query/http-endpoint.ts';

const run = promisify(execFile);
const cache =
  process.env['TRIBUTARY_CACHE_DIR'] ??
  join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'tributary');
const GO_CLIENT = join(cache, 'clients', 'go', 'clients-go');
const PYTHON = join(cache, 'clients', 'python', 'venv', 'bin', 'python');
const USER = 'grafana';
const PASSWORD = 'client-test';
const log = createLogger({ name: 'clients-test', level: 'silent', pretty: false });
let endpoint: QueryEndpoint;
/** What the engine itself says the migrated schema holds; each client must see exactly that. */
const expected = { tables: 0, requestColumns: 0, deadLetterColumns: 0, migrations: 0 };

async function countOf(session: Session, sql: string): Promise<number> {
  return Number((await session.queryAsync(sql, { format: 'TabSeparated' })).text().trim());
}

async function fillTables(dataDir: string): Promise<void> {
  const handle = openClickHouse(
    {
      clickhouseDataDir: dataDir,
      clickhouseUser: 'default',
      clickhousePassword: '',
      clickhouseDatabase: 'default',
    },
    'clients-test',
  );
  await migrate(handle.client, log);
  await handle.close();
  const session = new Session(dataDir);
  await session.queryAsync(`INSERT INTO requests (event_id, ts, service, endpoint, method, status, latency_ms,
      bytes_out, customer_id, region, ingested_at, _topic, _partition, _offset)
    SELECT toString(number), toDateTime64('2026-01-01 00:00:00', 3, 'UTC') + number * 7, ['api', 'web'][number % 2 + 1],
      '/x/{id}', 'GET', 200 + number % 3 * 100, number * 1.5, number * 10, 'c' || toString(number % 5), 'eu',
      now64(3), 'requests.valid', 0, number FROM numbers(200)`);
  await session.queryAsync(`INSERT INTO dead_letters (reason, detail, source_topic, source_partition, source_offset,
      original_key, original_value, processor, failed_at, _topic, _partition, _offset)
    SELECT 'bad_json', 'x', 'requests.raw', 0, number, if(number % 2 = 0, NULL, 'k'), 'v', 'ingest', now64(3),
      'requests.dlq', 0, number FROM numbers(20)`);
  expected.tables = await countOf(session, "SELECT count() FROM system.tables WHERE database = 'default'");
  const columnsOf = (table: string) =>
    countOf(session, `SELECT count() FROM system.columns WHERE database = 'default' AND table = '${table}'`);
  expected.requestColumns = await columnsOf('requests');
  expected.deadLetterColumns = await columnsOf('dead_letters');
  expected.migrations = await countOf(session, 'SELECT count() FROM tributary_migrations');
  session.close();
}

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-clients-'));
  await fillTables(dataDir);
  endpoint = await startQueryEndpoint({
    host: '127.0.0.1',
    port: 0,
    executor: chdbExecutor(dataDir, true),
    readOnly: true,
    version: 'test',
    log,
    access: { user: USER, password: PASSWORD, allowedOrigins: [] },
  });
});

afterAll(async () => {
  await endpoint.close();
});

function installed(path: string): void {
  if (!existsSync(path))
    throw new Error(
      `${path} is missing: run ./tributary setup (step "query clients" builds it) and read its log`,
    );
}

/** Runs a client program; its stdout is one JSON object per step. */
async function steps(file: string, args: string[]): Promise<Array<Record<string, unknown>>> {
  const result = await run(file, args, { timeout: 120_000 }).catch(
    (error: { stdout?: string; stderr?: string }) => {
      throw new Error(`${file} failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
    },
  );
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('real clients against the query endpoint', () => {
  it('Go clickhouse-go v2.47 with the Grafana plugin options', async () => {
    installed(GO_CLIENT);
    const byName = new Map(
      (await steps(GO_CLIENT, [`127.0.0.1:${endpoint.port}`, USER, PASSWORD])).map((s) => [s['name'], s]),
    );
    expect(byName.get('ping')).toEqual({ name: 'ping', rows: 0, columns: 0 });
    expect(byName.get('hello')).toMatchObject({ rows: 1, columns: 4 });
    expect(expected.tables).toBeGreaterThanOrEqual(3);
    expect(byName.get('show tables')).toMatchObject({ rows: expected.tables });
    expect(byName.get('desc table')).toMatchObject({ rows: expected.requestColumns });
    expect(byName.get('time series')).toMatchObject({ columns: 4 });
    expect((byName.get('time series')?.['rows'] as number) > 1).toBe(true);
    expect(byName.get('select * from requests')).toMatchObject({
      rows: 200,
      columns: expected.requestColumns,
    });
    expect(byName.get('select * from dead_letters')).toMatchObject({
      rows: 20,
      columns: expected.deadLetterColumns,
    });
    expect(byName.get('select * from tributary_migrations')).toMatchObject({ rows: expected.migrations });
  });

  it('Python clickhouse-connect', async () => {
    installed(PYTHON);
    const script = join(import.meta.dirname, 'python', 'check.py');
    const byName = new Map(
      (await steps(PYTHON, [script, '127.0.0.1', String(endpoint.port), USER, PASSWORD])).map((s) => [
        s['name'],
        s,
      ]),
    );
    expect(byName.get('show tables')).toMatchObject({ rows: expected.tables });
    expect(byName.get('group by')).toMatchObject({
      rows: 2,
      sample: [
        ['api', '100'],
        ['web', '100'],
      ],
    });
    expect(byName.get('select * from requests')).toMatchObject({ rows: 200 });
    expect(byName.get('select * from dead_letters')).toMatchObject({ rows: 20 });
    expect(byName.get('bound parameter')).toMatchObject({ sample: [['42']] });
  });

  it('@clickhouse/client with compression', async () => {
    const client = createClient({
      url: endpoint.url,
      username: USER,
      password: PASSWORD,
      compression: { response: true, request: false },
    });
    const rows = await (
      await client.query({ query: 'SELECT count() AS n FROM dead_letters', format: 'JSONEachRow' })
    ).json<{ n: string }>();
    expect(rows).toEqual([{ n: '20' }]);
    await client.close();
  });

  it('curl with gzip', async () => {
    const { stdout } = await run('curl', [
      '-sS', '--compressed', '-u', `${USER}:${PASSWORD}`,
      `${endpoint.url}/?enable_http_compression=1&query=${encodeURIComponent('SELECT count() FROM requests')}`,
    ]); // prettier-ignore
    expect(stdout).toBe('200\n');
  });
});
