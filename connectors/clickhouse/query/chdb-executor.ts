// Runs one HTTP request's SQL on the embedded engine, in a chdb session of its own (sessions on one data
// directory share the data but not settings, and open in about a millisecond): the request's settings
// and limits, the database, then readonly=1 unless this is the writable test server; then the statement,
// checked on the engine's own parse (statement-check.ts). Every query carries a tag in log_comment, so
// `cancel` can KILL it from another session (a client gone, the process stopping).
import { Session } from 'chdb';
import { checkStatement } from './statement-check.ts';
import type { SqlParser } from './statement-check.ts';

export interface ExecuteRequest {
  sql: string;
  format: string;
  settings: ReadonlyMap<string, string>;
  /** `{name:Type}` query parameters (URL `param_name=value`). */
  params: Readonly<Record<string, string>>;
  /** The database unqualified names refer to (`database` parameter, X-ClickHouse-Database). */
  database?: string | undefined;
  /** This endpoint's own id for the query, unique, used to cancel it. */
  tag?: string | undefined;
}

export interface ExecuteResult {
  body: Buffer;
  /** The output format: the statement's FORMAT clause, else the request's. */
  format: string;
  rowsRead: number;
  bytesRead: number;
}

export interface Executor {
  execute(request: ExecuteRequest): Promise<ExecuteResult>;
  /** Cancels the running query with this tag, if any (KILL QUERY … ASYNC: it stops at its next block). */
  cancel(tag: string): Promise<void>;
}

function literal(value: string): string {
  return /^-?\d+(\.\d+)?$/.test(value) ? value : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function identifier(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

/** The engine parses (never runs) the request's SQL: the text travels as a bound parameter. */
export function sessionParser(session: Session, params: Readonly<Record<string, string>> = {}): SqlParser {
  return {
    formatQuery: async (sql) =>
      (
        await session.queryBindAsync('SELECT formatQuery({q:String})', { q: sql }, { format: 'RawBLOB' })
      ).text(),
    // With the request's parameters bound, so the tree is the one that runs (an Identifier substituted).
    explainAst: async (canonical) =>
      (await session.queryBindAsync(`EXPLAIN AST ${canonical}`, params, { format: 'TabSeparated' })).text(),
  };
}

async function prepare(session: Session, request: ExecuteRequest, readOnly: boolean): Promise<void> {
  // A ClickHouse server's default; chdb's differs, and clients (e.g. @clickhouse/client) expect it.
  await session.queryAsync('SET output_format_json_quote_64bit_integers = 1');
  for (const [key, value] of request.settings) await session.queryAsync(`SET ${key} = ${literal(value)}`);
  if (request.tag !== undefined) await session.queryAsync(`SET log_comment = ${literal(request.tag)}`);
  if (request.database !== undefined && request.database !== '')
    await session.queryAsync(`USE ${identifier(request.database)}`);
  if (readOnly) {
    await session.queryAsync('SET allow_introspection_functions = 0');
    await session.queryAsync('SET readonly = 1');
  }
}

export function chdbExecutor(dataDir: string, readOnly: boolean): Executor {
  return {
    async execute(request) {
      const session = new Session(dataDir);
      try {
        await prepare(session, request, readOnly);
        const checked = readOnly
          ? await checkStatement(sessionParser(session, request.params), request.sql)
          : undefined;
        const sql = checked?.sql ?? request.sql;
        const options = { format: checked?.format ?? request.format };
        const result =
          Object.keys(request.params).length > 0
            ? await session.queryBindAsync(sql, request.params, options)
            : await session.queryAsync(sql, options);
        return {
          body: Buffer.from(result.bytes()),
          format: options.format,
          rowsRead: result.rowsRead,
          bytesRead: result.bytesRead,
        };
      } finally {
        session.close();
      }
    },
    async cancel(tag) {
      const session = new Session(dataDir);
      try {
        await session.queryAsync(`KILL QUERY WHERE Settings['log_comment'] = ${literal(tag)} ASYNC`);
      } finally {
        session.close();
      }
    },
  };
}
