// ClickHouse's HTTP interface over the embedded engine: `/ping`, and queries as `?query=` and/or the POST
// body, settings as URL parameters, `param_*` bindings, TabSeparated by default (`default_format` or a
// FORMAT clause for others). Read-only unless started as the writable server tests use.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../../runtime/index.ts';
import type { Executor } from './chdb-executor.ts';
import { toHttpError } from './http-errors.ts';
import { assertReadOnlySql, refused, settingsFromParams, tokens } from './sql-guard.ts';

export interface QueryEndpointOptions {
  host: string;
  port: number;
  executor: Executor;
  readOnly: boolean;
  /** Engine version, for error texts and headers. */
  version: string;
  log: Logger;
  /** Largest request body, in bytes. Default 1 MiB read-only, 256 MiB writable. */
  maxBodyBytes?: number;
}

export interface QueryEndpoint {
  port: number;
  url: string;
  close(): Promise<void>;
}

const DEFAULT_FORMAT = 'TabSeparated';

function contentType(format: string): string {
  if (format.startsWith('JSON')) return 'application/json; charset=UTF-8';
  if (format.startsWith('TabSeparated') || format.startsWith('TSV'))
    return 'text/tab-separated-values; charset=UTF-8';
  if (format.startsWith('CSV')) return 'text/csv; charset=UTF-8';
  return 'text/plain; charset=UTF-8';
}

/** The FORMAT named in the statement itself, if any (it wins over `default_format`). */
function formatClause(sql: string): string | undefined {
  const words = tokens(sql);
  const at = words.lastIndexOf('FORMAT');
  if (at < 0) return undefined;
  const match = new RegExp(`FORMAT\\s+([A-Za-z0-9_]+)\\s*;?\\s*$`, 'i').exec(sql.trim());
  return match?.[1];
}

async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw refused(`request body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startQueryEndpoint(options: QueryEndpointOptions): Promise<QueryEndpoint> {
  const server: Server = createServer((request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      options.log.warn({ err: error }, 'query endpoint failed to answer');
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(options: QueryEndpointOptions, request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const queryId = url.searchParams.get('query_id') ?? randomUUID();
  const headers = {
    'X-ClickHouse-Query-Id': queryId,
    'X-ClickHouse-Timezone': 'UTC',
    'X-ClickHouse-Server-Display-Name': 'tributary',
  };
  if (url.pathname === '/ping' || (url.pathname === '/' && request.method === 'HEAD')) {
    response.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=UTF-8' });
    return void response.end('Ok.\n');
  }
  try {
    if (url.pathname !== '/')
      throw Object.assign(new Error(`no handler for ${url.pathname}`), { clickhouseCode: 1001 });
    const limit = options.maxBodyBytes ?? (options.readOnly ? 1 << 20 : 256 << 20);
    const body = await readBody(request, limit);
    const fromUrl = url.searchParams.get('query') ?? '';
    const sql = fromUrl !== '' && body !== '' ? `${fromUrl}\n${body}` : fromUrl || body;
    if (sql.trim() === '' && request.method === 'GET') {
      response.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=UTF-8' });
      return void response.end('Ok.\n');
    }
    if (options.readOnly) assertReadOnlySql(sql);
    const settings = settingsFromParams(url.searchParams);
    const params = Object.fromEntries(
      [...url.searchParams].filter(([k]) => k.startsWith('param_')).map(([k, v]) => [k.slice(6), v]),
    );
    const format = url.searchParams.get('default_format') ?? DEFAULT_FORMAT;
    const result = await options.executor.execute({ sql, format, settings, params });
    const shown = formatClause(sql) ?? format;
    response.writeHead(200, {
      ...headers,
      'Content-Type': contentType(shown),
      'X-ClickHouse-Format': shown,
      'X-ClickHouse-Summary': JSON.stringify({ read_rows: '0', read_bytes: '0', written_rows: '0' }),
    });
    response.end(result);
  } catch (error) {
    const failure = toHttpError(error, options.version);
    response.writeHead(failure.status, {
      ...headers,
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Exception-Code': String(failure.code),
    });
    response.end(failure.body);
  }
}
