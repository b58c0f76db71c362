// A read-only query endpoint over a fresh data directory holding a small `requests` table, for the
// endpoint's tests (each file gets its own directory and port).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'chdb';
import { createLogger } from '../../../runtime/index.ts';
import { chdbExecutor } from '../query/chdb-executor.ts';
import { startQueryEndpoint } from '../query/http-endpoint.ts';
import type { QueryEndpoint, QueryEndpointOptions } from '../query/http-endpoint.ts';

export interface EndpointFixture {
  dataDir: string;
  endpoint: QueryEndpoint;
  /** GET `/?query=…` plus extra URL parameters and headers. */
  get(sql: string, extra?: string, headers?: Record<string, string>): Promise<Response>;
}

export async function startEndpointFixture(
  options: Partial<Pick<QueryEndpointOptions, 'access' | 'limits' | 'host' | 'tls'>> = {},
): Promise<EndpointFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-query-'));
  const session = new Session(dataDir);
  await session.queryAsync(
    'CREATE TABLE requests (service String, status UInt16) ENGINE = MergeTree ORDER BY service',
  );
  await session.queryAsync("INSERT INTO requests VALUES ('a', 200), ('a', 500), ('b', 200)");
  session.close();
  const endpoint = await startQueryEndpoint({
    host: '127.0.0.1',
    port: 0,
    executor: chdbExecutor(dataDir, true),
    readOnly: true,
    version: 'test',
    log: createLogger({ name: 'test', level: 'silent', pretty: false }),
    ...options,
  });
  const get = (sql: string, extra = '', headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${endpoint.url}/?query=${encodeURIComponent(sql)}${extra}`, { headers });
  return { dataDir, endpoint, get };
}
