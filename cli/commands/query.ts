// `tributary query "SQL" [--format X]`: through the running sink's read-only endpoint when one answers,
// otherwise straight from the embedded data directory (when no process owns it). Prints a table.
import { textTable } from '../../runtime/observability/terminal.ts';
import type { Command } from '../command.ts';
import { UsageError, parseArgs } from '../command.ts';
import { clickhouseConfigShape } from '../../connectors/clickhouse/config.ts';
import { QueryFailed, readResults } from '../../connectors/clickhouse/query/read-results.ts';
import { loadConfig } from '../../runtime/index.ts';
import { z } from 'zod';

const config = () => loadConfig('query', z.object(clickhouseConfigShape));

function asTable(json: string): string {
  const parsed = JSON.parse(json) as { meta: Array<{ name: string }>; data: unknown[][] };
  const table = textTable({ head: parsed.meta.map((m) => m.name) });
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
    let text: string;
    try {
      text = await readResults(sql, config(), format ?? 'JSONCompact');
    } catch (error) {
      if (error instanceof QueryFailed) throw new UsageError(error.message);
      throw error;
    }
    process.stdout.write(format === undefined ? `${asTable(text)}\n` : text);
    return 0;
  },
};
