// The query endpoint's SQL guard on its own: which statements pass, which are refused and why, and
// which URL parameters become settings.
import { describe, expect, it } from 'vitest';
import { isTributaryError } from '../../../runtime/index.ts';
import { READONLY_CODE, assertReadOnlySql, settingsFromParams, tokens } from './sql-guard.ts';

/** The refusal's message, or undefined when the guard lets the call through. */
function refusal(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (!isTributaryError(error)) throw error;
    expect(error.code).toBe('TRIBUTARY_CLICKHOUSE_QUERY_REFUSED');
    expect(error.context['clickhouseCode']).toBe(READONLY_CODE);
    return error.message;
  }
}

describe('assertReadOnlySql', () => {
  it.each([
    'SELECT count() FROM requests',
    '  select 1;',
    'WITH x AS (SELECT 1) SELECT * FROM x',
    'SHOW TABLES',
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
  ])('allows a reading statement: %s', (sql) => {
    expect(refusal(() => assertReadOnlySql(sql))).toBeUndefined();
  });

  it.each([
    ['INSERT INTO requests VALUES (1)', /INSERT statements are refused/],
    ['alter table requests delete where 1', /ALTER statements are refused/],
    ['DROP TABLE requests', /DROP statements are refused/],
    ['CREATE TABLE t (x UInt8) ENGINE = Memory', /CREATE statements are refused/],
    ['SYSTEM STOP MERGES', /SYSTEM statements are refused/],
    ['SET readonly = 0', /SET statements are refused/],
    ['TRUNCATE TABLE requests', /TRUNCATE statements are refused/],
    ['/* hello */ OPTIMIZE TABLE requests FINAL', /OPTIMIZE statements are refused/],
  ])('refuses a writing statement: %s', (sql, message) => {
    expect(refusal(() => assertReadOnlySql(sql))).toMatch(message);
  });

  it.each([
    'SELECT 1; DROP TABLE requests',
    'SELECT 1;SELECT 2',
    "SELECT ';'; INSERT INTO requests VALUES (1)",
  ])('refuses more than one statement: %s', (sql) => {
    expect(refusal(() => assertReadOnlySql(sql))).toMatch(/only one statement/);
  });

  it('allows one statement followed by semicolons', () => {
    expect(refusal(() => assertReadOnlySql('SELECT 1;;  '))).toBeUndefined();
  });

  it('refuses an empty query and one of comments only', () => {
    expect(refusal(() => assertReadOnlySql('   '))).toMatch(/empty query/);
    expect(refusal(() => assertReadOnlySql('-- nothing\n/* here */'))).toMatch(/empty query/);
  });

  it('refuses writing a file with INTO OUTFILE, in any case', () => {
    expect(refusal(() => assertReadOnlySql("SELECT * FROM requests INTO OUTFILE '/tmp/x'"))).toMatch(
      /INTO OUTFILE/,
    );
    expect(refusal(() => assertReadOnlySql("select 1 into   outfile 'x.tsv'"))).toMatch(/INTO OUTFILE/);
  });

  it.each([
    'SELECT 1 SETTINGS readonly = 0',
    'SELECT 1 SETTINGS max_threads = 1, allow_ddl = 1',
    'SELECT 1 SETTINGS Allow_Introspection_Functions = 1',
  ])('refuses a SETTINGS clause that lifts read-only: %s', (sql) => {
    expect(refusal(() => assertReadOnlySql(sql))).toMatch(/cannot be changed here/);
  });
});

describe('settingsFromParams', () => {
  it('keeps engine settings and drops HTTP-layer parameters and query bindings', () => {
    const params = new URLSearchParams(
      'query=SELECT+1&database=default&default_format=JSON&param_x=1&max_threads=2&query_id=q',
    );
    expect([...settingsFromParams(params)]).toEqual([['max_threads', '2']]);
  });

  it.each(['readonly=0', 'readonly=2', 'allow_ddl=1', 'allow_introspection_functions=1'])(
    'refuses a parameter that would lift read-only: %s',
    (query) => {
      expect(refusal(() => settingsFromParams(new URLSearchParams(query)))).toMatch(/cannot be changed here/);
    },
  );

  it('refuses a parameter that is not a setting name (no SQL smuggled through the key)', () => {
    const params = new URLSearchParams();
    params.set('max_threads = 1; SET readonly', '0');
    expect(refusal(() => settingsFromParams(params))).toMatch(/not a setting name/);
  });
});

describe('tokens', () => {
  it('skips string literals, quoted identifiers and comments, and marks semicolons', () => {
    expect(tokens(`select 'a;b' , "c d", \`e\` -- f\n# g\n/* h */ ; x`)).toEqual(['SELECT', ';', 'X']);
  });

  it('handles escaped and doubled quotes inside literals', () => {
    expect(tokens(`SELECT 'it\\'s', 'it''s' FROM t`)).toEqual(['SELECT', 'FROM', 'T']);
  });
});
