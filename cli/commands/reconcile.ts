// `tributary reconcile [run]`: ClickHouse against a load-generator run's ground truth; every mismatch printed.
import { textTable } from '../../runtime/observability/terminal.ts';
import { z } from 'zod';
import { clickhouseConfigShape } from '../../connectors/clickhouse/config.ts';
import { selectRows } from '../../connectors/clickhouse/query/read-results.ts';
import { loadTruth, reconcileClickHouse, runPrefix } from '../../loadgen/index.ts';
import type { ClickHouseReconciliation } from '../../loadgen/index.ts';
import { loadConfig } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { UsageError, parseArgs } from '../command.ts';
import { reconcileStatsIfPresent, statsReconciliationTables } from './reconcile-stats.ts';
import { alertReconciliationTables, readReceivedKeys, reconcileAlertsIfPresent } from './reconcile-alerts.ts';

const MAX_CELLS_SHOWN = 30;

export function reconciliationTables(result: ClickHouseReconciliation): string {
  const checks = textTable({ head: ['check', 'expected (truth)', 'actual (ClickHouse)', ''] });
  for (const c of result.checks)
    checks.push([c.check, c.expected.toLocaleString(), c.actual.toLocaleString(), c.ok ? 'ok' : 'MISMATCH']);
  if (result.cells.length === 0) return checks.toString();
  const cells = textTable({ head: ['minute (UTC)', 'service', 'field', 'expected', 'actual'] });
  for (const m of result.cells.slice(0, MAX_CELLS_SHOWN))
    cells.push([m.minute, m.service, m.field, m.expected, m.actual]);
  const more =
    result.cells.length > MAX_CELLS_SHOWN ? `\n… and ${result.cells.length - MAX_CELLS_SHOWN} more` : '';
  return `${checks.toString()}\n${cells.toString()}${more}`;
}

export const reconcileCommand: Command = {
  name: 'reconcile',
  usage: 'reconcile [run-id | latest] [--received <file of alert keys a receiver got>]',
  summary: "compare ClickHouse with a load generator run's ground truth and print every mismatch",
  async run(args) {
    const { positional, options } = parseArgs(args);
    const received = options.get('received');
    if (received === true) throw new UsageError('--received needs a file: one <alert_id>:<state> per line');
    if (positional.length > 1) throw new UsageError('one run id at most');
    const runId = positional[0] ?? 'latest';
    const truth = await loadTruth(runId);
    const settings = loadConfig('reconcile', z.object(clickhouseConfigShape));
    const select = async (sql: string) => (await selectRows(sql, settings)).data;
    // The full pipeline fills requests from enrich's topic; a sink reading ingest directly, from its own.
    const [[enriched = 0] = []] = await select(
      `SELECT count() FROM requests WHERE _topic = '${runPrefix(truth)}requests.enriched'`,
    );
    const from = Number(enriched) > 0 ? 'requests.enriched' : 'requests.valid';
    const result = await reconcileClickHouse(truth, select, from);
    console.log(reconciliationTables(result));
    const stats = await reconcileStatsIfPresent(truth, select);
    console.log('result' in stats ? statsReconciliationTables(stats.result) : stats.skipped);
    const alerts = await reconcileAlertsIfPresent(
      truth,
      select,
      received === undefined ? undefined : readReceivedKeys(received),
    );
    console.log('result' in alerts ? alertReconciliationTables(alerts.result) : alerts.skipped);
    const ok =
      result.ok &&
      ('result' in stats ? stats.result.ok : true) &&
      ('result' in alerts ? alerts.result.ok : true);
    console.log(`run ${truth.run_id}: reconciliation ${ok ? 'EXACT' : 'FAILED'}`);
    return ok ? 0 : 1;
  },
};
