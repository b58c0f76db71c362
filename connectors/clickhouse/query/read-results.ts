// Reads query results the way a user would, wherever they live: the running sink's read-only endpoint,
// the embedded data directory when no process owns it, or the ClickHouse server of CLICKHOUSE_URL.
import type { ClickHouseSettings } from '../config.ts';
import { lockDataDir, lockOwner } from '../data-dir-lock.ts';

export interface ResultsSettings extends ClickHouseSettings {
  queryPort: number;
  /** The running endpoint's credentials, when it has a password (TRIBUTARY_QUERY_PASSWORD). */
  queryUser?: string;
  queryPassword?: string;
}

export class QueryFailed extends Error {}

export interface CompactResult {
  meta: Array<{ name: string; type: string }>;
  data: unknown[][];
}

async function post(
  url: string,
  sql: string,
  format: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const response = await fetch(`${url}/?default_format=${encodeURIComponent(format)}`, {
    method: 'POST',
    body: sql,
    headers,
  });
  const text = await response.text();
  if (!response.ok) throw new QueryFailed(text.trim());
  return text;
}

/** The URL of a running query endpoint for this data directory, if one answers. */
export async function runningEndpoint(dataDir: string, port: number): Promise<string | undefined> {
  const owner = lockOwner(dataDir);
  const candidates = [owner?.queryUrl, port > 0 ? `http://127.0.0.1:${port}` : undefined].filter(
    (u): u is string => u !== undefined,
  );
  for (const url of candidates) {
    try {
      if ((await fetch(`${url}/ping`)).ok) return url;
    } catch {
      // nothing answers there
    }
  }
  return undefined;
}

async function direct(dataDir: string, sql: string, format: string): Promise<string> {
  const lock = lockDataDir(dataDir, 'query');
  try {
    // Loaded on demand: the embedded engine maps hundreds of MB, which a CLI command that only talks
    // to a running endpoint (or a processor sharing this module graph) should not pay for.
    const { chdbExecutor } = await import('./chdb-executor.ts');
    const result = await chdbExecutor(dataDir, true).execute({
      sql,
      format,
      settings: new Map(),
      params: {},
    });
    return result.body.toString('utf8');
  } catch (error) {
    throw new QueryFailed(error instanceof Error ? error.message : String(error));
  } finally {
    lock.release();
  }
}

/** Runs one read-only query and returns the raw output in `format`. */
export async function readResults(
  sql: string,
  settings: ResultsSettings,
  format = 'JSONCompact',
): Promise<string> {
  if (settings.clickhouseUrl !== undefined) {
    const auth = Buffer.from(`${settings.clickhouseUser}:${settings.clickhousePassword}`).toString('base64');
    return post(settings.clickhouseUrl, sql, format, {
      authorization: `Basic ${auth}`,
      'x-clickhouse-database': settings.clickhouseDatabase,
    });
  }
  const url = await runningEndpoint(settings.clickhouseDataDir, settings.queryPort);
  if (url === undefined) return direct(settings.clickhouseDataDir, sql, format);
  const user = settings.queryUser ?? 'default';
  return post(url, sql, format, {
    'x-clickhouse-user': user,
    'x-clickhouse-key': settings.queryPassword ?? '',
  });
}

export async function selectRows(sql: string, settings: ResultsSettings): Promise<CompactResult> {
  return JSON.parse(await readResults(sql, settings, 'JSONCompact')) as CompactResult;
}
