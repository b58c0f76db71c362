// The statement check on the engine's own parse, and which URL parameters become settings. The parse is
// the real one (a chdb session, read-only), so quoting, comments and heredocs are ClickHouse's.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'chdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTributaryError } from '../../../runtime/index.ts';
import { sessionParser } from './chdb-executor.ts';
import { DEFAULT_QUERY_LIMITS } from './limits.ts';
import { READONLY_CODE, settingsFromParams } from './sql-guard.ts';
import { checkStatement, parseAstDump } from './statement-check.ts';

let session: Session;

beforeAll(async () => {
  session = new Session(mkdtempSync(join(tmpdir(), 'tributary-check-')));
  await session.queryAsync('CREATE TABLE requests (x UInt8) ENGINE = Memory');
  await session.queryAsync('SET readonly = 1');
});

afterAll(() => session.close());

/** The refusal's message, or undefined when the check lets the statement through. */
async function refusal(sql: string): Promise<string | undefined> {
  try {
    await checkStatement(sessionParser(session), sql);
    return undefined;
  } catch (error) {
    if (!isTributaryError(error)) throw error;
    expect(error.code).toBe('TRIBUTARY_CLICKHOUSE_QUERY_REFUSED');
    expect(error.context['clickhouseCode']).toBe(READONLY_CODE);
    return error.message;
  }
}

function syncRefusal(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (!isTributaryError(error)) throw error;
    expect(error.context['clickhouseCode']).toBe(READONLY_CODE);
    return error.message;
  }
}

describe('checkStatement', () => {
  it.each([
    'SELECT count() FROM requests',
    '  select 1;',
    'WITH x AS (SELECT 1) SELECT * FROM x',
    'SHOW TABLES',
    'SHOW DATABASES',
    'DESCRIBE TABLE requests',
    'DESC requests',
    'EXPLAIN SELECT 1',
    'EXISTS TABLE requests',
    "SELECT 'DROP TABLE requests; INSERT INTO x' AS text",
    'SELECT 1 -- ; DROP TABLE requests',
    'SELECT /* ; ALTER TABLE requests DELETE */ 1',
    'SELECT `into outfile` FROM t',
    'SELECT 1 SETTINGS max_threads = 2',
    'SELECT 1 FORMAT JSON',
    'SELECT number FROM numbers(3)',
    "SELECT 'file(1)' AS f",
  ])('allows a reading statement: %s', async (sql) => {
    expect(await refusal(sql)).toBeUndefined();
  });

  it.each([
    ['INSERT INTO requests VALUES (1)', /Insert.* statements are refused/],
    ['alter table requests delete where 1', /Alter.* statements are refused/],
    ['DROP TABLE requests', /Drop.* statements are refused/],
    ['CREATE TABLE t (x UInt8) ENGINE = Memory', /Create.* statements are refused/],
    ['SYSTEM STOP MERGES', /SYSTEM statements are refused/],
    ['SET readonly = 0', /Set statements are refused/],
    ['TRUNCATE TABLE requests', /statements are refused/],
    ['/* hello */ OPTIMIZE TABLE requests FINAL', /Optimize.* statements are refused/],
  ])('refuses a writing statement: %s', async (sql, message) => {
    expect(await refusal(sql)).toMatch(message);
  });

  it.each([
    'SELECT 1; DROP TABLE requests',
    'SELECT 1;SELECT 2',
    "SELECT ';'; INSERT INTO requests VALUES (1)",
  ])('refuses more than one statement: %s', async (sql) => {
    await expect(checkStatement(sessionParser(session), sql)).rejects.toMatchObject({
      clickhouseCode: 62,
      message: expect.stringMatching(/Multi-statements are not allowed/) as unknown,
    });
  });

  it('allows one statement followed by a semicolon, and returns the canonical text', async () => {
    expect(await checkStatement(sessionParser(session), 'select 1 ;')).toEqual({
      sql: 'SELECT 1',
      format: undefined,
    });
  });

  it('refuses an empty query', async () => {
    expect(await refusal('   ')).toMatch(/empty query/);
  });

  it('refuses writing a file with INTO OUTFILE, in any case, and hidden behind a heredoc', async () => {
    expect(await refusal("SELECT * FROM requests INTO OUTFILE '/tmp/x'")).toMatch(/INTO OUTFILE/);
    expect(await refusal("select 1 into   outfile 'x.tsv'")).toMatch(/INTO OUTFILE/);
    expect(await refusal("SELECT $$'$$ INTO OUTFILE '/tmp/x' --'")).toMatch(/INTO OUTFILE/);
  });

  it('refuses table functions beyond local generators, and scalar file()', async () => {
    expect(await refusal("SELECT * FROM file('/etc/passwd', 'LineAsString')")).toMatch(/table function file/);
    expect(await refusal("SELECT * FROM numbers(1), url('http://x', 'CSV')")).toMatch(/table function url/);
    expect(await refusal("SELECT FiLe('/etc/passwd')")).toMatch(/function file\(\)/);
  });

  it('names the FORMAT clause', async () => {
    expect((await checkStatement(sessionParser(session), 'SELECT 1 FORMAT CSV')).format).toBe('CSV');
  });
});

describe('parseAstDump', () => {
  it('builds the tree from the indented dump', () => {
    const [root] = parseAstDump('A (children 2)\n B x (children 1)\n  C\n D y\n');
    expect(root).toEqual({
      kind: 'A',
      detail: '',
      children: [
        { kind: 'B', detail: 'x', children: [{ kind: 'C', detail: '', children: [] }] },
        { kind: 'D', detail: 'y', children: [] },
      ],
    });
  });
});

describe('settingsFromParams', () => {
  it('keeps engine settings and drops HTTP-layer parameters and query bindings', () => {
    const params = new URLSearchParams(
      'query=SELECT+1&database=default&default_format=JSON&param_x=1&max_threads=2&query_id=q&client_protocol_version=54460',
    );
    expect([...settingsFromParams(params)]).toEqual([['max_threads', '2']]);
  });

  it.each(['readonly=0', 'readonly=2', 'allow_ddl=1', 'allow_introspection_functions=1', 'log_comment=x'])(
    'refuses a parameter that would lift read-only: %s',
    (query) => {
      expect(syncRefusal(() => settingsFromParams(new URLSearchParams(query)))).toMatch(
        /cannot be changed here/,
      );
    },
  );

  it('refuses a parameter that is not a setting name (no SQL smuggled through the key)', () => {
    const params = new URLSearchParams();
    params.set('max_threads = 1; SET readonly', '0');
    expect(syncRefusal(() => settingsFromParams(params))).toMatch(/not a setting name/);
  });

  it('lets a client lower a limit but never lift it, and fills in the caps', () => {
    const params = new URLSearchParams('max_execution_time=5&max_memory_usage=0&max_result_rows=999999999');
    const settings = settingsFromParams(params, DEFAULT_QUERY_LIMITS);
    expect(settings.get('max_execution_time')).toBe('5');
    expect(settings.get('max_memory_usage')).toBe(String(DEFAULT_QUERY_LIMITS.maxMemoryBytes));
    expect(settings.get('max_result_rows')).toBe(String(DEFAULT_QUERY_LIMITS.maxResultRows));
    expect(settings.get('max_result_bytes')).toBe(String(DEFAULT_QUERY_LIMITS.maxResultBytes));
  });
});
