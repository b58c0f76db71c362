// Escape attempts against the read-only endpoint on a real engine: each is refused (with the code the
// client sees) or runs harmlessly (and the test says what it returned). After every attempt: the secret
// file's text is not in the answer, no file was written, and the table still holds its three rows.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEndpointFixture } from '../testing/query-endpoint-fixture.ts';
import type { EndpointFixture } from '../testing/query-endpoint-fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'tributary-escape-'));
const SECRET_TEXT = `tributary-secret-${process.pid}`;
const secret = join(dir, 'secret.txt');
const out = join(dir, 'out.txt');
writeFileSync(secret, `${SECRET_TEXT}\n`);

interface Attempt {
  /** SQL in `?query=` (and/or `body`). */
  sql?: string;
  body?: string | Buffer;
  extra?: string;
  headers?: Record<string, string>;
  /** Refused with this ClickHouse code; or harmless, answering 200 with text matching `harmless`. */
  refused?: number;
  harmless?: RegExp;
}

const cyrillicI = '\u0456';
const deep = `SELECT ${'('.repeat(5000)}1${')'.repeat(5000)}`;
const ATTEMPTS: Record<string, Attempt> = {
  'heredoc hiding INTO OUTFILE': { sql: `SELECT $$'$$ INTO OUTFILE '${out}' --'`, refused: 164 },
  'INTO OUTFILE': { sql: `SELECT 1 INTO OUTFILE '${out}'`, refused: 164 },
  'INTO OUTFILE TRUNCATE with FORMAT': {
    sql: `SELECT 1 INTO OUTFILE '${out}' TRUNCATE FORMAT CSV`,
    refused: 164,
  },
  'INTO OUTFILE after a UNION': { sql: `SELECT 1 UNION ALL SELECT 2 INTO OUTFILE '${out}'`, refused: 164 },
  'INTO OUTFILE of an EXPLAIN': { sql: `EXPLAIN SELECT 1 INTO OUTFILE '${out}'`, refused: 164 },
  'INTO OUTFILE after a line comment': { sql: `SELECT 1 -- hi\nINTO OUTFILE '${out}'`, refused: 164 },
  'INTO OUTFILE split between URL and body': { sql: 'SELECT 1 INTO OUTFILE', body: `'${out}'`, refused: 164 },
  'INTO OUTFILE in a gzip body': {
    body: gzipSync(`SELECT 1 INTO OUTFILE '${out}'`),
    headers: { 'content-encoding': 'gzip' },
    refused: 164,
  },
  'scalar file()': { sql: `SELECT file('${secret}')`, refused: 164 },
  'scalar FILE() in capitals': { sql: `SELECT FILE('${secret}')`, refused: 164 },
  'file() in a nested subquery': { sql: `SELECT (SELECT (SELECT file('${secret}')))`, refused: 164 },
  'file() in a WITH': { sql: `WITH file('${secret}') AS x SELECT x`, refused: 164 },
  'file() in a WHERE IN subquery': {
    sql: `SELECT 1 WHERE 'x' IN (SELECT file('${secret}'))`,
    refused: 164,
  },
  'backquoted `file`()': { sql: `SELECT \`file\`('${secret}')`, refused: 164 },
  'file table function': { sql: `SELECT * FROM file('${secret}', 'LineAsString')`, refused: 164 },
  'file table function in a JOIN': {
    sql: `SELECT * FROM numbers(1) AS n JOIN file('${secret}', 'LineAsString') AS f ON 1`,
    refused: 164,
  },
  'file inside view()': { sql: `SELECT * FROM view(SELECT file('${secret}'))`, refused: 164 },
  'DESCRIBE a file table function': { sql: `DESCRIBE file('${secret}', 'LineAsString')`, refused: 164 },
  'url table function': { sql: "SELECT * FROM url('http://127.0.0.1:1/', 'CSV', 'a String')", refused: 164 },
  's3 table function': { sql: "SELECT * FROM s3('http://127.0.0.1:1/b/k', 'CSV', 'a String')", refused: 164 },
  'remote table function': { sql: "SELECT * FROM remote('127.0.0.1:9000', system.one)", refused: 164 },
  'executable table function': { sql: "SELECT * FROM executable('id', 'TSV', 'a String')", refused: 164 },
  'mysql table function': { sql: "SELECT * FROM mysql('127.0.0.1:1', 'd', 't', 'u', 'p')", refused: 164 },
  'postgresql table function': {
    sql: "SELECT * FROM postgresql('127.0.0.1:1', 'd', 't', 'u', 'p')",
    refused: 164,
  },
  'cluster table function': { sql: "SELECT * FROM clusterAllReplicas('default', system.one)", refused: 164 },
  'python table function': { sql: "SELECT * FROM python('x')", refused: 164 },
  'INSERT INTO FUNCTION file': {
    sql: `INSERT INTO FUNCTION file('${out}', 'CSV', 'a UInt8') SELECT 1`,
    refused: 164,
  },
  'a second statement after a comment': { sql: 'SELECT 1 /* x */ ; DROP TABLE requests', refused: 62 },
  'a second statement after a line comment': { sql: 'SELECT 1; -- x\nDROP TABLE requests', refused: 62 },
  'a fullwidth semicolon': { sql: 'SELECT 1\uff1b DROP TABLE requests', refused: 62 },
  'a look-alike file() (Cyrillic i)': { sql: `SELECT f${cyrillicI}le('${secret}')`, refused: 62 },
  'a look-alike OUTFILE (Cyrillic O)': { sql: `SELECT 1 INTO \u041eUTFILE '${out}'`, refused: 62 },
  'readonly=0 in the URL': { sql: 'SELECT 1', extra: '&readonly=0', refused: 164 },
  'allow_ddl=1 in the URL': { sql: 'SELECT 1', extra: '&allow_ddl=1', refused: 164 },
  'a template file in the URL': {
    sql: 'SELECT 1 FORMAT Template',
    extra: `&format_template_resultset=${encodeURIComponent(secret)}`,
    refused: 164,
  },
  'a generated schema written to a file': {
    sql: 'SELECT 1 FORMAT Protobuf',
    extra: `&output_format_schema=${encodeURIComponent(out)}`,
    refused: 164,
  },
  'max_execution_time=0 in the URL (clamped to the cap)': {
    sql: "SELECT getSetting('max_execution_time')",
    extra: '&max_execution_time=0',
    harmless: /^30\n$/,
  },
  'max_memory_usage=0 in the URL (clamped to the cap)': {
    sql: "SELECT getSetting('max_memory_usage')",
    extra: '&max_memory_usage=0',
    harmless: new RegExp(`^${1 << 30}\\n$`),
  },
  'readonly=0 in a SETTINGS clause': { sql: 'SELECT 1 SETTINGS readonly = 0', refused: 164 },
  'introspection in a SETTINGS clause': {
    sql: 'SELECT 1 SETTINGS allow_introspection_functions = 1',
    refused: 164,
  },
  'a longer time in a SETTINGS clause': {
    sql: 'SELECT 1 SETTINGS max_execution_time = 100000',
    refused: 164,
  },
  'a template file in a SETTINGS clause': {
    sql: `SELECT 1 SETTINGS format_template_resultset = '${secret}' FORMAT Template`,
    refused: 164,
  },
  'an introspection function': { sql: 'SELECT addressToSymbol(toUInt64(1))', refused: 446 },
  'SQL in the database header': {
    sql: 'SELECT 1',
    headers: { 'x-clickhouse-database': 'default`; DROP TABLE requests; --' },
    refused: 81,
  },
  'SQL in a query parameter (bound, not spliced)': {
    sql: 'SELECT {p:String}',
    extra: `&param_p=${encodeURIComponent("'); DROP TABLE requests; --")}`,
    harmless: /^\\'\); DROP TABLE requests; --\n$/,
  },
  'a table function through an Identifier parameter': {
    sql: 'SELECT * FROM {t:Identifier}',
    extra: `&param_t=${encodeURIComponent(`file('${secret}')`)}`,
    refused: 60,
  },
  'CREATE TEMPORARY TABLE': { sql: 'CREATE TEMPORARY TABLE t (a UInt8)', refused: 164 },
  'KILL QUERY': { sql: 'KILL QUERY WHERE 1', refused: 164 },
  'SYSTEM SHUTDOWN': { sql: 'SYSTEM SHUTDOWN', refused: 164 },
  'EXPLAIN of an INSERT': { sql: 'EXPLAIN INSERT INTO requests VALUES (1, 1)', refused: 164 },
  'a query body over the size limit': { body: `SELECT '${'x'.repeat(1 << 20)}'`, refused: 393 },
  'a very deeply nested query': { sql: deep, refused: 306 },
  'a query over max_query_size': { body: `SELECT 1 IN (${'1,'.repeat(200_000)}1)`, refused: 62 },
  'merge() over the local system tables (harmless)': {
    sql: "SELECT count() FROM merge('system', '^one$')",
    harmless: /^1\n$/,
  },
  'ClickHouse block compression asked for': { sql: 'SELECT 1', extra: '&compress=1', refused: 1 },
};

let fixture: EndpointFixture;

beforeAll(async () => {
  fixture = await startEndpointFixture();
});

afterAll(async () => {
  await fixture.endpoint.close();
});

function send(attempt: Attempt): Promise<Response> {
  const query = attempt.sql === undefined ? '' : `query=${encodeURIComponent(attempt.sql)}`;
  const url = `${fixture.endpoint.url}/?${query}${attempt.extra ?? ''}`;
  if (attempt.body === undefined) return fetch(url, { headers: attempt.headers ?? {} });
  return fetch(url, { method: 'POST', body: attempt.body, headers: attempt.headers ?? {} });
}

describe('escape corpus', () => {
  it('has at least 40 attempts', () => {
    expect(Object.keys(ATTEMPTS).length).toBeGreaterThanOrEqual(40);
  });

  it.each(Object.entries(ATTEMPTS))('%s', async (_name, attempt) => {
    const response = await send(attempt);
    const text = await response.text();
    if (attempt.refused !== undefined) {
      expect(response.headers.get('x-clickhouse-exception-code'), text).toBe(String(attempt.refused));
      expect(response.status).toBeGreaterThanOrEqual(400);
    } else {
      expect(response.status, text).toBe(200);
      expect(text).toMatch(attempt.harmless ?? /^$/);
    }
    expect(text).not.toContain(SECRET_TEXT);
    expect(existsSync(out)).toBe(false);
    expect(await (await fixture.get('SELECT count() FROM requests')).text()).toBe('3\n');
  });
});
