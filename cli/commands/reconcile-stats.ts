// The stats section of `tributary reconcile` and of the demo: request_stats_1m against the truth per
// (service, endpoint, region, minute), as two tables (the checks, then the first differences).
import { textTable } from '../../runtime/observability/terminal.ts';
import { STATS_TABLE, reconcileStats, statsTableExists } from '../../loadgen/index.ts';
import type { SelectRows, StatsReconciliation, Truth } from '../../loadgen/index.ts';

const MAX_DIFFERENCES_SHOWN = 30;

export function statsReconciliationTables(result: StatsReconciliation): string {
  const checks = textTable({ head: [`${STATS_TABLE} check`, 'expected (truth)', 'actual (ClickHouse)', ''] });
  for (const c of result.checks)
    checks.push([c.check, c.expected.toLocaleString(), c.actual.toLocaleString(), c.ok ? 'ok' : 'MISMATCH']);
  if (result.differences.length === 0) return checks.toString();
  const differences = textTable({
    head: ['minute (UTC)', 'service', 'endpoint', 'region', 'field', 'expected', 'actual', 'difference'],
  });
  for (const d of result.differences.slice(0, MAX_DIFFERENCES_SHOWN))
    differences.push([
      d.minute,
      d.service,
      d.endpoint,
      d.region,
      d.field,
      d.expected,
      d.actual,
      d.difference,
    ]);
  const more =
    result.differences.length > MAX_DIFFERENCES_SHOWN
      ? `\n… and ${result.differences.length - MAX_DIFFERENCES_SHOWN} more`
      : '';
  return `${checks.toString()}\n${differences.toString()}${more}`;
}

/**
 * The stats reconciliation when there is something to reconcile: the table exists (migration 005) and
 * holds rows of this run (the aggregate ran for it); otherwise a sentence saying why it was skipped.
 */
export async function reconcileStatsIfPresent(
  truth: Truth,
  select: SelectRows,
): Promise<{ result: StatsReconciliation } | { skipped: string }> {
  if (!(await statsTableExists(select)))
    return { skipped: `no ${STATS_TABLE} table yet: stats not reconciled` };
  const result = await reconcileStats(truth, select);
  if (result.rows === 0)
    return { skipped: `${STATS_TABLE} holds no rows of this run (was the aggregate running?)` };
  return { result };
}
