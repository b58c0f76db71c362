// `tributary query "SQL" [--format X]`: through the running sink's read-only endpoint when one answers,
// otherwise straight from the embedded data directory (when no process owns it). Prints a table.
import Table from 'cli-table3';
import type { Command } from '../command.ts';
import { UsageError, parseArgs } from '../command.ts';
import {
  chdbExecutor,
  clickhouseConfigShape,
  lockDataDir,
  lockOwner,
} from '../../connectors/clickhouse/index.ts';
import { loadConfig } from '../../runtime/index.ts';
import { z } from 'zod';

const config = () => loadConfig('query', z.object(clickhouseConfigShape));

async function viaEndpoint(url: string, sql: string, format: string): Promise<string> {
  const response = await fetch(`${url}/?default_format=${encodeURIComponent(format)}`, {
    method: 'POST',
    body: sql,
  });
  const text = await response.text();
  if (!response.ok) throw new UsageError(text.trim());
  return text;
}

async function endpointUrl(dataDir: string, port: number): Promise<string | undefined> {
  const owner = lockOwner(dataDir);
  const candidates = [owner?.queryUrl, `http://127.0.0.1:${port}`].filter(
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
    const result = await chdbExecutor(dataDir, true).execute({
      sql,
      format,
      settings: new Map(),
      params: {},
    });
    return result.toString('utf8');
  } catch (error) {
    throw new UsageError(String((error as Error).message ?? error));
  } finally {
    lock.release();
  }
}

function asTable(json: string): string {
  const parsed = JSON.parse(json) as { meta: Array<{ name: string }>; data: unknown[][] };
  const table = new Table({ head: parsed.meta.map((m) => m.name) });
  for (const row of parsed.data) table.push(row.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))));
  return `${table.toString()}\n${parsed.data.length} row(s)`;
}

export const queryCommand: Command = {
  name: 'query',
  usage: 'query "SQL" [--format X]',
  summary:
    'query the ClickHouse results (through the running sink, or the data directory when it is stopped)',
  async run(args) {
    const { positional, options } = parseArgs(args);
    const sql = positional.join(' ').trim();
    if (sql === '') throw new UsageError('which query? e.g. tributary query "SELECT count() FROM requests"');
    const format = options.get('format');
    if (format === true) throw new UsageError('--format needs a ClickHouse format name, e.g. CSV');
    const { clickhouseDataDir, queryPort, clickhouseUrl } = config();
    if (clickhouseUrl !== undefined)
      throw new UsageError('with CLICKHOUSE_URL set, query the server directly');
    const url = await endpointUrl(clickhouseDataDir, queryPort);
    const wire = format ?? 'JSONCompact';
    const text =
      url !== undefined ? await viaEndpoint(url, sql, wire) : await direct(clickhouseDataDir, sql, wire);
    process.stdout.write(format === undefined ? `${asTable(text)}\n` : text);
    return 0;
  },
};
