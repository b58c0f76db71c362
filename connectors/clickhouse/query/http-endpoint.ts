// ClickHouse's HTTP interface over the embedded engine: `/ping`, and queries as `?query=` and/or the POST
// body, settings as URL parameters, `param_*` bindings, TabSeparated by default (`default_format`,
// X-ClickHouse-Format or a FORMAT clause for others), the HTTP-layer parameters of ClickHouse's handler
// (query_id, database, client_protocol_version, enable_http_compression, compress, user/password…).
// Read-only and bounded (limits.ts) unless started as the writable server tests use.
import { TributaryError } from '../../../runtime/index.ts';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../../runtime/index.ts';
import type { ExecuteResult, Executor } from './chdb-executor.ts';
import { assertSafeBind, checkAccess } from './http-access.ts';
import type { AccessOptions } from './http-access.ts';
import { assertNoBlockCompression, decodeBody, encodeBody, responseEncoding } from './http-encoding.ts';
import { toHttpError } from './http-errors.ts';
import { ConcurrencyGate, DEFAULT_QUERY_LIMITS, overLimit } from './limits.ts';
import type { QueryLimits } from './limits.ts';
import { nativeAtRevision } from './native-revision.ts';
import { settingsFromParams } from './sql-guard.ts';

export interface QueryEndpointOptions {
  host: string;
  port: number;
  executor: Executor;
  readOnly: boolean;
  /** Engine version, for error texts and headers. */
  version: string;
  log: Logger;
  /** Who may query. Default: user `default`, no password, no browser origin. */
  access?: AccessOptions;
  /** Read-only mode's bounds (DEFAULT_QUERY_LIMITS for any not given). The writable server has none. */
  limits?: Partial<QueryLimits>;
  /** Serve https with this certificate and key (PEM) instead of http. */
  tls?: { cert: Buffer; key: Buffer };
}

export interface QueryEndpoint {
  port: number;
  url: string;
  /** Stops listening, cancels the queries still running and waits for them to end. */
  close(): Promise<void>;
}

interface Context {
  options: QueryEndpointOptions;
  access: AccessOptions;
  limits: QueryLimits;
  gate: ConcurrencyGate;
  running: Map<string, Promise<unknown>>;
}

const DEFAULT_FORMAT = 'TabSeparated';
const WRITABLE_LIMITS: QueryLimits = {
  ...DEFAULT_QUERY_LIMITS,
  maxConcurrentQueries: 64,
  maxBodyBytes: 256 << 20,
};

function contentType(format: string): string {
  if (format.startsWith('JSON')) return 'application/json; charset=UTF-8';
  if (format.startsWith('TabSeparated') || format.startsWith('TSV'))
    return 'text/tab-separated-values; charset=UTF-8';
  if (format.startsWith('CSV')) return 'text/csv; charset=UTF-8';
  if (
    format === 'Native' ||
    format.startsWith('RowBinary') ||
    format === 'Parquet' ||
    format.startsWith('Arrow')
  )
    return 'application/octet-stream';
  return 'text/plain; charset=UTF-8';
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw overLimit(`request body larger than ${limit} bytes`, 393);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export async function startQueryEndpoint(options: QueryEndpointOptions): Promise<QueryEndpoint> {
  const access = options.access ?? { user: 'default', password: '', allowedOrigins: [] };
  assertSafeBind(options.host, access.password);
  const limits = options.readOnly ? { ...DEFAULT_QUERY_LIMITS, ...options.limits } : WRITABLE_LIMITS;
  const context: Context = {
    options,
    access,
    limits,
    gate: new ConcurrencyGate(limits.maxConcurrentQueries),
    running: new Map(),
  };
  const answer = (request: IncomingMessage, response: ServerResponse): void => {
    handle(context, request, response).catch((error: unknown) => {
      options.log.warn({ err: error }, 'query endpoint failed to answer');
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  };
  const server: Server =
    options.tls === undefined ? createServer(answer) : createHttpsServer(options.tls, answer);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const scheme = options.tls === undefined ? 'http' : 'https';
  return { port, url: `${scheme}://${options.host}:${port}`, close: () => closeEndpoint(server, context) };
}

async function closeEndpoint(server: Server, context: Context): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const running = [...context.running];
  await Promise.all(running.map(([tag]) => context.options.executor.cancel(tag).catch(() => undefined)));
  await Promise.allSettled(running.map(([, done]) => done));
  server.closeAllConnections();
  await closed;
}

async function handle(context: Context, request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {
    'X-ClickHouse-Query-Id': url.searchParams.get('query_id') ?? randomUUID(),
    'X-ClickHouse-Timezone': 'UTC',
    'X-ClickHouse-Server-Display-Name': 'tributary',
  };
  if (url.pathname === '/ping' || (url.pathname === '/' && request.method === 'HEAD')) {
    response.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=UTF-8' });
    return void response.end('Ok.\n');
  }
  let release = (): void => undefined;
  try {
    if (url.pathname !== '/')
      throw new TributaryError('TRIBUTARY_CLICKHOUSE_QUERY_UNSUPPORTED', `no handler for ${url.pathname}`, {
        context: { clickhouseCode: 1001 },
      });
    const origin = checkAccess(context.access, request.headers, url.searchParams);
    if (origin !== undefined) headers['Access-Control-Allow-Origin'] = origin;
    assertNoBlockCompression(url.searchParams);
    release = context.gate.enter();
    const limit = context.limits.maxBodyBytes;
    const body = decodeBody(await readBody(request, limit), request.headers['content-encoding'], limit);
    const fromUrl = url.searchParams.get('query') ?? '';
    const sql = [fromUrl, body.toString('utf8')].filter((part) => part !== '').join('\n');
    if (sql.trim() === '' && request.method === 'GET') {
      response.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=UTF-8' });
      return void response.end('Ok.\n');
    }
    const result = await run(context, request, response, url.searchParams, sql);
    respond(response, headers, url.searchParams, request.headers['accept-encoding'], result);
  } catch (error) {
    const failure = toHttpError(error, context.options.version);
    response.writeHead(failure.status, {
      ...headers,
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Exception-Code': String(failure.code),
    });
    response.end(failure.body);
  } finally {
    release();
  }
}

/** Runs the query; a client that goes away before the answer cancels it. */
async function run(
  context: Context,
  request: IncomingMessage,
  response: ServerResponse,
  params: URLSearchParams,
  sql: string,
): Promise<ExecuteResult> {
  const { executor, readOnly } = context.options;
  const tag = `tributary-query-${randomUUID()}`;
  const execution = executor.execute({
    sql,
    format: params.get('default_format') ?? header(request, 'x-clickhouse-format') ?? DEFAULT_FORMAT,
    settings: settingsFromParams(params, readOnly ? context.limits : undefined),
    params: Object.fromEntries(
      [...params].filter(([k]) => k.startsWith('param_')).map(([k, v]) => [k.slice(6), v]),
    ),
    database: params.get('database') ?? header(request, 'x-clickhouse-database'),
    tag,
  });
  context.running.set(
    tag,
    execution.catch(() => undefined),
  );
  const onGone = (): void => {
    if (!response.writableEnded) void executor.cancel(tag).catch(() => undefined);
  };
  response.once('close', onGone);
  try {
    return await execution;
  } finally {
    context.running.delete(tag);
  }
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function respond(
  response: ServerResponse,
  headers: Record<string, string>,
  params: URLSearchParams,
  acceptEncoding: string | undefined,
  result: ExecuteResult,
): void {
  const revision = Number(params.get('client_protocol_version') ?? 0);
  const data = result.format === 'Native' ? nativeAtRevision(result.body, revision) : result.body;
  const encoding = responseEncoding(params, acceptEncoding);
  const summary = {
    read_rows: result.rowsRead,
    read_bytes: result.bytesRead,
    written_rows: 0,
    written_bytes: 0,
  };
  response.writeHead(200, {
    ...headers,
    'Content-Type': contentType(result.format),
    'X-ClickHouse-Format': result.format,
    'X-ClickHouse-Summary': JSON.stringify(
      Object.fromEntries(Object.entries(summary).map(([k, v]) => [k, String(v)])),
    ),
    ...(encoding !== undefined ? { 'Content-Encoding': encoding } : {}),
  });
  response.end(encodeBody(data, encoding));
}
