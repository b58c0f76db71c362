// Compares ClickHouse with a run's ground truth: rows and distinct events, per (service, minute)
// requests, 4xx and 5xx, dead letters per reason, and duplicates (raw deliveries minus both tables).
import type { ReconcileCheck } from './reconcile-topics.ts';
import type { Truth } from './truth.ts';

/** Runs a SELECT and returns its rows (JSONCompact `data`). */
export type SelectRows = (sql: string) => Promise<unknown[][]>;

export interface CellMismatch {
  service: string;
  minute: string;
  field: 'requests' | 'status_4xx' | 'status_5xx';
  expected: number;
  actual: number;
}

export interface ClickHouseReconciliation {
  ok: boolean;
  checks: ReconcileCheck[];
  cells: CellMismatch[];
}

interface Cell {
  requests: number;
  status_4xx: number;
  status_5xx: number;
}

const quote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function truthCells(truth: Truth): Map<string, Cell> {
  const cells = new Map<string, Cell>();
  for (const s of truth.stats_1m) {
    const key = `${s.service}|${s.minute_start_ms}`;
    const cell = cells.get(key) ?? { requests: 0, status_4xx: 0, status_5xx: 0 };
    cell.requests += s.requests;
    cell.status_4xx += s.status_4xx;
    cell.status_5xx += s.status_5xx;
    cells.set(key, cell);
  }
  return cells;
}

async function clickhouseCells(select: SelectRows, validTopic: string): Promise<Map<string, Cell>> {
  const rows = await select(
    `SELECT service, toUnixTimestamp(toStartOfMinute(ts)) * 1000 AS minute, count(), countIf(status >= 400 AND status < 500), countIf(status >= 500)
     FROM requests WHERE _topic = ${quote(validTopic)} GROUP BY service, minute`,
  );
  return new Map(
    rows.map((r) => [
      `${String(r[0])}|${Number(r[1])}`,
      { requests: Number(r[2]), status_4xx: Number(r[3]), status_5xx: Number(r[4]) },
    ]),
  );
}

function compareCells(expected: Map<string, Cell>, actual: Map<string, Cell>): CellMismatch[] {
  const mismatches: CellMismatch[] = [];
  const zero: Cell = { requests: 0, status_4xx: 0, status_5xx: 0 };
  for (const key of new Set([...expected.keys(), ...actual.keys()])) {
    const [service = '', minuteMs = '0'] = key.split('|');
    const want = expected.get(key) ?? zero;
    const got = actual.get(key) ?? zero;
    for (const field of ['requests', 'status_4xx', 'status_5xx'] as const) {
      if (want[field] !== got[field]) {
        mismatches.push({
          service,
          minute: new Date(Number(minuteMs)).toISOString().slice(0, 16),
          field,
          expected: want[field],
          actual: got[field],
        });
      }
    }
  }
  return mismatches.sort((a, b) => a.minute.localeCompare(b.minute) || a.service.localeCompare(b.service));
}

/** The topic prefix a run used, from its raw topic (`<prefix>requests.raw`). */
export function runPrefix(truth: Truth): string {
  return truth.topic.endsWith('requests.raw') ? truth.topic.slice(0, -'requests.raw'.length) : '';
}

/**
 * `requestsFrom`: the topic whose rows fill `requests` (logical name): `requests.valid` when the sink reads
 * ingest's output directly, `requests.enriched` in the full pipeline (one row per valid event either way).
 */
export async function reconcileClickHouse(
  truth: Truth,
  select: SelectRows,
  requestsFrom: 'requests.valid' | 'requests.enriched' = 'requests.valid',
): Promise<ClickHouseReconciliation> {
  const prefix = runPrefix(truth);
  const validTopic = `${prefix}${requestsFrom}`;
  const [[rows = 0, distinct = 0] = []] = await select(
    `SELECT count(), uniqExact(event_id) FROM requests WHERE _topic = ${quote(validTopic)}`,
  );
  const reasons = await select(
    `SELECT reason, count() FROM dead_letters WHERE _topic = ${quote(`${prefix}requests.dlq`)} GROUP BY reason`,
  );
  const byReason = new Map(reasons.map((r) => [String(r[0]), Number(r[1])]));
  const deadLetters = [...byReason.values()].reduce((a, b) => a + b, 0);
  const checks: ReconcileCheck[] = [
    { check: 'rows in requests', expected: truth.valid_events, actual: Number(rows) },
    { check: 'distinct event ids in requests', expected: truth.valid_events, actual: Number(distinct) },
    {
      check: 'rows in dead_letters',
      expected: Object.values(truth.dead_letters).reduce((a, b) => a + b, 0),
      actual: deadLetters,
    },
    ...Object.entries(truth.dead_letters).map(([reason, expected]) => ({
      check: `dead letters: ${reason}`,
      expected,
      actual: byReason.get(reason) ?? 0,
    })),
    {
      check: 'duplicates dropped',
      expected: truth.duplicates,
      actual: truth.acknowledged.deliveries - Number(rows) - deadLetters,
    },
  ].map((c) => ({ ...c, ok: c.expected === c.actual }));
  const cells = compareCells(truthCells(truth), await clickhouseCells(select, validTopic));
  checks.push({
    check: '(service, minute) cells that differ',
    expected: 0,
    actual: cells.length,
    ok: cells.length === 0,
  });
  return { ok: checks.every((c) => c.ok), checks, cells };
}
