// The endpoint's bounds, access rules and HTTP layer on a real engine: limits answered with ClickHouse's
// codes, a gone client's query cancelled, close() ending a runaway query at once, users and origins,
// compression, the ClickHouse headers, and Native at the revision a client asks for.
import { request } from 'node:http';
import { Session } from 'chdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTributaryError } from '../../../runtime/index.ts';
import { startEndpointFixture } from '../testing/query-endpoint-fixture.ts';
import type { EndpointFixture } from '../testing/query-endpoint-fixture.ts';
import { nativeAtRevision } from './native-revision.ts';

const HEAVY = 'SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 1';
let fixture: EndpointFixture;

beforeAll(async () => {
  fixture = await startEndpointFixture({
    limits: { maxExecutionTimeS: 60, maxMemoryBytes: 64 << 20, maxResultRows: 100, maxConcurrentQueries: 2 },
    access: { user: 'grafana', password: 's3cret', allowedOrigins: ['http://localhost:3000'] },
  });
});

afterAll(async () => {
  await fixture.endpoint.close();
});

const AUTH = { authorization: `Basic ${Buffer.from('grafana:s3cret').toString('base64')}` };
const get = (sql: string, extra = '', headers: Record<string, string> = {}): Promise<Response> =>
  fixture.get(sql, extra, { ...AUTH, ...headers });

async function running(): Promise<number> {
  const session = new Session(fixture.dataDir);
  try {
    const result = await session.queryAsync(
      "SELECT count() FROM system.processes WHERE Settings['log_comment'] LIKE 'tributary-query-%'",
      { format: 'TabSeparated' },
    );
    return Number(result.text().trim());
  } finally {
    session.close();
  }
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100)))
    if (await check()) return true;
  return false;
}

describe('limits', () => {
  it('answers a query over a limit with the engine code: time 159, memory 241, result rows 396', async () => {
    const slow = await get(HEAVY, '&max_execution_time=1');
    expect([slow.status, slow.headers.get('x-clickhouse-exception-code')]).toEqual([408, '159']);
    const big = await get('SELECT length(groupArray(number)) FROM numbers(400000000)');
    expect(big.headers.get('x-clickhouse-exception-code')).toBe('241');
    const many = await get('SELECT number FROM numbers(1000)');
    expect(many.headers.get('x-clickhouse-exception-code')).toBe('396');
  });

  it('refuses a query past the concurrency cap with 503 and code 202, then serves again', async () => {
    const controllers = [new AbortController(), new AbortController()];
    const heavy = controllers.map((c) =>
      fetch(`${fixture.endpoint.url}/?query=${encodeURIComponent(HEAVY)}`, {
        headers: AUTH,
        signal: c.signal,
      }).catch(() => undefined),
    );
    expect(await until(async () => (await running()) === 2, 10_000)).toBe(true);
    const third = await get('SELECT 1');
    expect([third.status, third.headers.get('x-clickhouse-exception-code')]).toEqual([503, '202']);
    for (const c of controllers) c.abort();
    await Promise.all(heavy);
    expect(await until(async () => (await running()) === 0, 10_000)).toBe(true);
    expect(await (await get('SELECT 1')).text()).toBe('1\n');
  });

  it('cancels the query of a client that disconnects', async () => {
    const sent = request(`${fixture.endpoint.url}/?query=${encodeURIComponent(HEAVY)}`, { headers: AUTH });
    sent.on('error', () => undefined);
    sent.end();
    expect(await until(async () => (await running()) === 1, 10_000)).toBe(true);
    sent.destroy();
    expect(await until(async () => (await running()) === 0, 10_000)).toBe(true);
  });
});

describe('the writer beside a heavy query', () => {
  it('keeps inserting, and the process RSS stays within the per-query memory cap', async () => {
    const writer = new Session(fixture.dataDir);
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const heavy = get('SELECT length(groupArray(number)) FROM numbers(400000000)').then((r) => r.text());
    const slow = get(HEAVY, '&max_execution_time=3').then((r) => r.text());
    let inserts = 0;
    for (const end = Date.now() + 3_000; Date.now() < end; inserts++) {
      await writer.queryAsync(`INSERT INTO requests VALUES ('w', ${inserts})`);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    await Promise.all([heavy, slow]);
    writer.close();
    // Not a speed assertion: the writer is not starved (at least a few inserts land while both queries run).
    expect(inserts).toBeGreaterThan(3);
    expect(peakRss - rssBefore).toBeLessThan((64 << 20) * 2 + (256 << 20));
    const landed = await (await get("SELECT count() FROM requests WHERE service = 'w'")).text();
    expect(Number(landed)).toBe(inserts);
  });
});

describe('close', () => {
  it('cancels a runaway query and returns long before its 60 s time limit', async () => {
    const own = await startEndpointFixture({ limits: { maxExecutionTimeS: 60 } });
    const answer = own.get(HEAVY);
    await new Promise((r) => setTimeout(r, 1_000));
    const started = Date.now();
    await own.endpoint.close();
    expect(Date.now() - started).toBeLessThan(15_000);
    await answer.catch(() => undefined);
  });
});

describe('access', () => {
  it.each([
    ['Basic auth', AUTH, ''],
    ['X-ClickHouse-User / Key', { 'x-clickhouse-user': 'grafana', 'x-clickhouse-key': 's3cret' }, ''],
    ['user / password parameters', {}, '&user=grafana&password=s3cret'],
  ])('accepts the configured user by %s', async (_how, headers, extra) => {
    const response = await fixture.get('SELECT 1', extra, headers);
    expect(await response.text()).toBe('1\n');
  });

  it('refuses a wrong or missing password with 401 and code 516', async () => {
    for (const headers of [{}, { 'x-clickhouse-user': 'grafana', 'x-clickhouse-key': 'nope' }]) {
      const response = await fixture.get('SELECT 1', '', headers);
      expect([response.status, response.headers.get('x-clickhouse-exception-code')]).toEqual([401, '516']);
    }
  });

  it('refuses browser requests from other sites unless their origin is configured', async () => {
    const other = await get('SELECT 1', '', { origin: 'https://evil.example' });
    expect([other.status, other.headers.get('x-clickhouse-exception-code')]).toEqual([403, '497']);
    const fetchSite = await get('SELECT 1', '', { 'sec-fetch-site': 'cross-site' });
    expect(fetchSite.status).toBe(403);
    const allowed = await get('SELECT 1', '', { origin: 'http://localhost:3000' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(await allowed.text()).toBe('1\n');
  });

  it('refuses at start to listen beyond loopback without a password', async () => {
    const failure = await startEndpointFixture({ host: '0.0.0.0' }).catch((error: unknown) => error);
    expect(isTributaryError(failure) && failure.code).toBe('TRIBUTARY_CLICKHOUSE_QUERY_UNSAFE_BIND');
  });
});

describe('HTTP layer', () => {
  it('compresses with gzip when enable_http_compression=1 asks, and sends the ClickHouse headers', async () => {
    const response = await fetch(
      `${fixture.endpoint.url}/?query=SELECT+42&enable_http_compression=1&query_id=q-1`,
      {
        headers: { ...AUTH, 'accept-encoding': 'zstd, lz4, gzip' },
      },
    );
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(await response.text()).toBe('42\n'); // fetch decodes gzip itself
    expect(response.headers.get('x-clickhouse-query-id')).toBe('q-1');
    expect(response.headers.get('x-clickhouse-format')).toBe('TabSeparated');
    expect(response.headers.get('x-clickhouse-timezone')).toBe('UTC');
    expect(JSON.parse(response.headers.get('x-clickhouse-summary') ?? '{}')).toHaveProperty('read_rows');
    const plain = await get('SELECT 1', '', { 'accept-encoding': 'gzip' });
    expect(plain.headers.get('content-encoding')).toBeNull();
  });

  it('honours the database parameter and the X-ClickHouse-Database header', async () => {
    expect(await (await get('SELECT count() FROM one', '&database=system')).text()).toBe('1\n');
    expect(
      await (await get('SELECT count() FROM one', '', { 'x-clickhouse-database': 'system' })).text(),
    ).toBe('1\n');
  });

  it('accepts the HTTP-layer parameters clients send without passing them on as settings', async () => {
    const extra =
      '&client_protocol_version=54460&session_id=s&session_timeout=60&quota_key=k&wait_end_of_query=1&decompress=0';
    const response = await get('SELECT 1', extra);
    expect(await response.text()).toBe('1\n');
  });
});

describe('Native at the client revision', () => {
  it('adds a BlockInfo per block and a serialization byte per column from revision 54454', async () => {
    const sql =
      "SELECT number AS n, toString(number) AS s, [number, 1] AS a, map('k', number) AS m, " +
      "toNullable(number) AS z, (number, 'x') AS t, toLowCardinality('lc') AS l FROM numbers(3) FORMAT Native";
    const plain = Buffer.from(await (await get(sql)).arrayBuffer());
    const revised = Buffer.from(await (await get(sql, '&client_protocol_version=54460')).arrayBuffer());
    expect(revised).toEqual(nativeAtRevision(plain, 54460));
    expect(revised.subarray(0, 8)).toEqual(Buffer.from([1, 0, 2, 0xff, 0xff, 0xff, 0xff, 0]));
    expect(revised.length).toBe(plain.length + 8 + 7);
  });
});
