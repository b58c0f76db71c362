// The read-only query endpoint against a real embedded engine: answers SELECTs the ClickHouse way,
// refuses writes and read-only escapes, and reports bad SQL as ClickHouse does.
import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEndpointFixture } from '../testing/query-endpoint-fixture.ts';
import type { EndpointFixture } from '../testing/query-endpoint-fixture.ts';

let fixture: EndpointFixture;
let endpoint: EndpointFixture['endpoint'];

beforeAll(async () => {
  fixture = await startEndpointFixture();
  endpoint = fixture.endpoint;
});

afterAll(async () => {
  await endpoint.close();
});

async function get(query: string, extra = ''): Promise<Response> {
  return fixture.get(query, extra);
}

describe('read-only query endpoint', () => {
  it('answers /ping, GET and POST queries, TabSeparated by default', async () => {
    expect(await (await fetch(`${endpoint.url}/ping`)).text()).toBe('Ok.\n');
    const response = await get('SELECT service, count() FROM requests GROUP BY service ORDER BY service');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('a\t2\nb\t1\n');
    const posted = await fetch(`${endpoint.url}/`, { method: 'POST', body: 'SELECT count() FROM requests' });
    expect(await posted.text()).toBe('3\n');
  });

  it('honours default_format and a FORMAT clause', async () => {
    const json = await get('SELECT count() AS n FROM requests', '&default_format=JSONEachRow');
    expect(await json.text()).toBe('{"n":"3"}\n');
    const csv = await get('SELECT service FROM requests ORDER BY service LIMIT 1 FORMAT CSV');
    expect(csv.headers.get('x-clickhouse-format')).toBe('CSV');
    expect(await csv.text()).toBe('"a"\n');
  });

  it('answers EXISTS and DESCRIBE in the requested format, never taking the table for a format', async () => {
    const exists = await get('EXISTS TABLE requests', '&default_format=JSONCompact');
    expect(exists.status).toBe(200);
    expect(((await exists.json()) as { data: unknown[][] }).data).toEqual([[1]]);
    const missing = await get('EXISTS no_such_table', '&default_format=TabSeparated');
    expect(await missing.text()).toBe('0\n');
    const described = await get('DESCRIBE TABLE requests FORMAT CSV');
    expect(described.headers.get('x-clickhouse-format')).toBe('CSV');
    expect((await described.text()).split('\n')[0]).toMatch(/^"service","String"/);
  });

  it('works with @clickhouse/client pointed at it', async () => {
    const client = createClient({ url: endpoint.url });
    const rows = await (
      await client.query({ query: 'SELECT status FROM requests ORDER BY status', format: 'JSONEachRow' })
    ).json<{ status: number }>();
    expect(rows.map((r) => r.status)).toEqual([200, 200, 500]);
    expect((await client.ping()).success).toBe(true);
    await client.close();
  });

  it.each([
    ['INSERT', "INSERT INTO requests VALUES ('c', 1)", ''],
    ['DROP', 'DROP TABLE requests', ''],
    ['ALTER', 'ALTER TABLE requests DELETE WHERE 1', ''],
    ['CREATE', 'CREATE TABLE x (a UInt8) ENGINE = Memory', ''],
    ['SYSTEM', 'SYSTEM STOP MERGES', ''],
    ['SET', 'SET readonly = 0', ''],
    ['readonly=0 in the URL', 'SELECT 1', '&readonly=0'],
    ['readonly=0 in SETTINGS', 'SELECT 1 SETTINGS readonly = 0', ''],
    ['INTO OUTFILE', "SELECT 1 INTO OUTFILE '/tmp/x'", ''],
    ['file()', "SELECT * FROM file('/etc/passwd', 'LineAsString')", ''],
  ])('refuses %s with 403 and code 164', async (_name, query, extra) => {
    const response = await get(query, extra);
    expect(response.status).toBe(403);
    expect(response.headers.get('x-clickhouse-exception-code')).toBe('164');
    expect(await response.text()).toMatch(/^Code: 164\. DB::Exception: /);
  });

  it('refuses a second statement with the engine multi-statement error (400, code 62), running neither', async () => {
    const response = await get('SELECT 1; DROP TABLE requests');
    expect(response.status).toBe(400);
    expect(response.headers.get('x-clickhouse-exception-code')).toBe('62');
    expect(await response.text()).toMatch(/Multi-statements are not allowed/);
    expect(await (await get('SELECT count() FROM requests')).text()).toBe('3\n');
  });

  it('returns ClickHouse-style errors for bad SQL and unknown tables', async () => {
    const syntax = await get('SELEC 1');
    expect(syntax.status).toBe(400);
    expect(syntax.headers.get('x-clickhouse-exception-code')).toBe('62');
    expect(await syntax.text()).toMatch(/^Code: 62\. DB::Exception: Syntax error/);
    const missing = await get('SELECT * FROM nowhere');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-clickhouse-exception-code')).toBe('60');
  });
});
