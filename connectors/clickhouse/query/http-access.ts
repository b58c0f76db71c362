// Who may query: credentials the ways ClickHouse's HTTP handler takes them (Basic auth, X-ClickHouse-User
// / X-ClickHouse-Key, `user` / `password` URL parameters) checked against the configured user; browser
// requests from another site refused (a page must not read the data through a user's browser) unless its
// origin is configured; and no listening beyond loopback without a password.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { TributaryError } from '../../../runtime/index.ts';

export interface AccessOptions {
  user: string;
  password: string;
  /** Browser origins allowed to query (exact `scheme://host:port`); none by default. */
  allowedOrigins: readonly string[];
}

const AUTHENTICATION_FAILED = 516;
const ACCESS_DENIED = 497;

function unauthorized(message: string, clickhouseCode: number): TributaryError {
  return new TributaryError('TRIBUTARY_CLICKHOUSE_QUERY_UNAUTHORIZED', message, {
    context: { clickhouseCode },
  });
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function credentials(
  headers: IncomingHttpHeaders,
  params: URLSearchParams,
): { user: string; password: string } {
  const basic = /^Basic\s+(.+)$/i.exec(header(headers, 'authorization') ?? '')?.[1];
  if (basic !== undefined) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0
      ? { user: decoded, password: '' }
      : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return {
    user: header(headers, 'x-clickhouse-user') ?? params.get('user') ?? 'default',
    password: header(headers, 'x-clickhouse-key') ?? params.get('password') ?? '',
  };
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Throws unless the request may query. Returns the CORS origin to echo, if the request came from one. */
export function checkAccess(
  options: AccessOptions,
  headers: IncomingHttpHeaders,
  params: URLSearchParams,
): string | undefined {
  const origin = header(headers, 'origin');
  const fetchSite = header(headers, 'sec-fetch-site');
  const crossSite = fetchSite === 'cross-site' || fetchSite === 'same-site' || origin !== undefined;
  if (crossSite && (origin === undefined || !options.allowedOrigins.includes(origin)))
    throw unauthorized(
      `browser requests from ${origin ?? 'another site'} are refused (set TRIBUTARY_QUERY_ALLOWED_ORIGINS to allow one)`,
      ACCESS_DENIED,
    );
  const given = credentials(headers, params);
  if (given.user !== options.user || !sameSecret(given.password, options.password))
    throw unauthorized(
      `${given.user}: Authentication failed: password is incorrect, or there is no user with such name`,
      AUTHENTICATION_FAILED,
    );
  return origin;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '::ffff:127.0.0.1';
}

/** Refuses, at start, an endpoint reachable from other machines that anyone could query. */
export function assertSafeBind(host: string, password: string): void {
  if (isLoopback(host) || password !== '') return;
  throw new TributaryError(
    'TRIBUTARY_CLICKHOUSE_QUERY_UNSAFE_BIND',
    `the query endpoint would listen on ${host} with no password: anyone who reaches it could read the data`,
    { context: { fix: 'set TRIBUTARY_QUERY_PASSWORD, or TRIBUTARY_QUERY_HOST=127.0.0.1' } },
  );
}
