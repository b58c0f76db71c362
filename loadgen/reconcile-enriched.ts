// Compares ClickHouse's rows from requests.enriched with a run's enriched truth: the row count, and the
// requests per (team, tier, plan, minute), NULLs (lookup misses) included, exactly.
import { cellKey } from './enriched-truth.ts';
import type { EnrichedCell } from './enriched-truth.ts';
import { runPrefix } from './reconcile-clickhouse.ts';
import type { SelectRows } from './reconcile-clickhouse.ts';
import type { ReconcileCheck } from './reconcile-topics.ts';
import type { Truth } from './truth.ts';

export interface EnrichedMismatch {
  cell: string;
  expected: number;
  actual: number;
}

export interface EnrichedReconciliation {
  ok: boolean;
  checks: ReconcileCheck[];
  cells: EnrichedMismatch[];
}

const quote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

async function clickhouseCells(select: SelectRows, topic: string): Promise<Map<string, number>> {
  const rows = await select(
    `SELECT team, tier, plan, toUnixTimestamp(toStartOfMinute(ts)) * 1000 AS minute, count()
     FROM requests WHERE _topic = ${quote(topic)} GROUP BY team, tier, plan, minute`,
  );
  const cells = new Map<string, number>();
  for (const r of rows) {
    const cell = {
      team: typeof r[0] === 'string' ? r[0] : null,
      tier: r[1] === null ? null : Number(r[1]),
      plan: typeof r[2] === 'string' ? r[2] : null,
      minute_start_ms: Number(r[3]),
    };
    cells.set(cellKey(cell), Number(r[4]));
  }
  return cells;
}

export async function reconcileEnriched(truth: Truth, select: SelectRows): Promise<EnrichedReconciliation> {
  const topic = `${runPrefix(truth)}requests.enriched`;
  const expected = new Map((truth.enriched_1m ?? []).map((c: EnrichedCell) => [cellKey(c), c.requests]));
  const actual = await clickhouseCells(select, topic);
  const cells: EnrichedMismatch[] = [];
  for (const cell of new Set([...expected.keys(), ...actual.keys()])) {
    const want = expected.get(cell) ?? 0;
    const got = actual.get(cell) ?? 0;
    if (want !== got) cells.push({ cell, expected: want, actual: got });
  }
  const [[rows = 0, distinct = 0] = []] = await select(
    `SELECT count(), uniqExact(event_id) FROM requests WHERE _topic = ${quote(topic)}`,
  );
  const checks: ReconcileCheck[] = [
    { check: 'rows from requests.enriched', expected: truth.valid_events, actual: Number(rows) },
    { check: 'distinct enriched event ids', expected: truth.valid_events, actual: Number(distinct) },
    { check: '(team, tier, plan, minute) cells that differ', expected: 0, actual: cells.length },
  ].map((c) => ({ ...c, ok: c.expected === c.actual }));
  if (truth.enriched_1m === undefined) {
    checks.push({ check: 'truth has enriched cells', expected: 1, actual: 0, ok: false });
  }
  return { ok: checks.every((c) => c.ok), checks, cells: cells.sort((a, b) => a.cell.localeCompare(b.cell)) };
}
