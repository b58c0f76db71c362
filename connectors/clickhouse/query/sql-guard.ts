// The query endpoint's first line of defence, before ClickHouse's own readonly=1: one statement, of a
// reading kind, that writes no file; and no setting that would lift read-only. Quoted text and comments
// are skipped, so a keyword inside a string literal is not mistaken for one.
import { TributaryError } from '../../../runtime/index.ts';

const READING_STATEMENTS = new Set(['SELECT', 'WITH', 'SHOW', 'DESCRIBE', 'DESC', 'EXPLAIN', 'EXISTS']);
/** Statements that change something. A first word in neither set is left to the engine (a syntax error). */
const WRITING_STATEMENTS = new Set(
  (
    'INSERT ALTER DROP CREATE SYSTEM SET TRUNCATE RENAME OPTIMIZE ATTACH DETACH GRANT REVOKE KILL DELETE ' +
    'UPDATE USE EXCHANGE UNDROP BACKUP RESTORE CHECK MOVE REPLACE WATCH UNDO BEGIN COMMIT ROLLBACK'
  ).split(' '),
);
/** Settings a client may not change: they decide what is allowed. */
const GUARDING_SETTINGS = new Set(['readonly', 'allow_ddl', 'allow_introspection_functions']);
/** Settings of ClickHouse's HTTP layer (or of the client library) with no effect on the engine. */
export const HTTP_ONLY_SETTINGS = new Set([
  'query',
  'query_id',
  'database',
  'default_format',
  'user',
  'password',
  'session_id',
  'session_timeout',
  'session_check',
  'compress',
  'decompress',
  'buffer_size',
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'enable_http_compression',
  'http_zlib_compression_level',
  'add_http_cors_header',
  'cancel_http_readonly_queries_on_client_close',
  'http_response_buffer_size',
]);

/** ClickHouse's READONLY code: what a refusal looks like to clients. */
export const READONLY_CODE = 164;

export function refused(message: string): TributaryError {
  return new TributaryError('TRIBUTARY_CLICKHOUSE_QUERY_REFUSED', message, {
    context: { clickhouseCode: READONLY_CODE },
  });
}

/** The SQL's words outside string literals, quoted identifiers and comments, upper-cased; plus `;` marks. */
export function tokens(sql: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] ?? '';
    const next = sql[i + 1] ?? '';
    if (c === "'" || c === '"' || c === '`') i = skipQuoted(sql, i, c);
    else if (c === '-' && next === '-') i = skipUntil(sql, i, '\n');
    else if (c === '#' && (next === ' ' || next === '!')) i = skipUntil(sql, i, '\n');
    else if (c === '/' && next === '*')
      i = sql.indexOf('*/', i + 2) < 0 ? sql.length : sql.indexOf('*/', i + 2) + 2;
    else if (c === ';') {
      out.push(';');
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < sql.length && /[A-Za-z0-9_]/.test(sql[i] ?? '')) i++;
      out.push(sql.slice(start, i).toUpperCase());
    } else i++;
  }
  return out;
}

function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (c === '\\') i += 2;
    else if (c === quote && sql[i + 1] === quote) i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  return i;
}

function skipUntil(sql: string, start: number, end: string): number {
  const found = sql.indexOf(end, start);
  return found < 0 ? sql.length : found + 1;
}

/** Throws a refusal unless the SQL is one reading statement that neither writes a file nor lifts read-only. */
export function assertReadOnlySql(sql: string): void {
  const words = tokens(sql);
  const semicolon = words.indexOf(';');
  if (semicolon >= 0 && words.slice(semicolon + 1).some((w) => w !== ';'))
    throw refused('only one statement per request');
  const first = words[0];
  if (first === undefined) throw refused('empty query');
  // An unknown first word goes on to the engine, whose readonly=1 refuses anything that writes.
  if (WRITING_STATEMENTS.has(first) && !READING_STATEMENTS.has(first))
    throw refused(
      `this endpoint is read-only: ${first} statements are refused (SELECT, SHOW, DESCRIBE, EXPLAIN, WITH only)`,
    );
  for (let i = 0; i < words.length; i++) {
    if (words[i] === 'INTO' && words[i + 1] === 'OUTFILE') throw refused('INTO OUTFILE is refused');
    if (words[i] === 'SETTINGS' || words[i] === 'SET') assertNoGuardingSetting(words.slice(i + 1));
  }
}

function assertNoGuardingSetting(words: readonly string[]): void {
  for (const word of words) {
    if (GUARDING_SETTINGS.has(word.toLowerCase()))
      throw refused(`the setting ${word.toLowerCase()} cannot be changed here`);
  }
}

/** Settings from URL parameters: HTTP-layer ones dropped, read-only-lifting ones refused. */
export function settingsFromParams(params: URLSearchParams): Map<string, string> {
  const settings = new Map<string, string>();
  for (const [key, value] of params) {
    if (HTTP_ONLY_SETTINGS.has(key) || key.startsWith('param_')) continue;
    if (GUARDING_SETTINGS.has(key)) throw refused(`the setting ${key} cannot be changed here`);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw refused(`not a setting name: ${key}`);
    settings.set(key, value);
  }
  return settings;
}
