// Compares ClickHouse's request_stats_1m (the aggregate's StatsMinute rows, every revision) with a run's
// ground truth per (service, endpoint, region, minute): counts and sums over all revisions, min and max
// over rows. Revisions >= 1 hold only the deltas of late events, so no FINAL and no dedup are needed.
import type { TruthStats } from './minute-stats.ts';
import { runPrefix } from './reconcile-clickhouse.ts';
import type { SelectRows } from './reconcile-clickhouse.ts';
import type { ReconcileCheck } from './reconcile-topics.ts';
import type { Truth } from './truth.ts';

export const STATS_TABLE = 'request_stats_1m';
/** The aggregate's output topic (logical name): the sink's `_topic` of the run's rows. */
export const STATS_TOPIC = 'stats.1m';

const SUMMED = [
  'requests',
  'status_1xx',
  'status_2xx',
  'status_3xx',
  'status_4xx',
  'status_5xx',
  'latency_count',
  'latency_sum_ms',
  'bytes_out',
] as const;
export const STATS_FIELDS = [...SUMMED, 'latency_min_ms', 'latency_max_ms'] as const;
export type StatsField = (typeof STATS_FIELDS)[number];

export type StatsValues = Record<StatsField, number>;

/** One field of one group that differs; a group missing on one side has 0 in every field there. */
export interface StatsDifference {
  service: string;
  endpoint: string;
  region: string;
  /** The group's minute, `YYYY-MM-DDTHH:MM` UTC. */
  minute: string;
  field: StatsField;
  expected: number;
  actual: number;
  /** actual - expected. */
  difference: number;
}

export interface StatsReconciliation {
  ok: boolean;
  checks: ReconcileCheck[];
  /** Sorted by minute, service, endpoint, region, field; empty when ClickHouse equals the truth. */
  differences: StatsDifference[];
  /** Rows of the run in the table (every revision). */
  rows: number;
}

const quote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const groupKey = (service: string, endpoint: string, region: string, minuteMs: number): string =>
  [service, endpoint, region, minuteMs].join('\u0000');

export function truthGroups(stats: readonly TruthStats[]): Map<string, StatsValues> {
  return new Map(
    stats.map((s) => [
      groupKey(s.service, s.endpoint, s.region, s.minute_start_ms),
      Object.fromEntries(STATS_FIELDS.map((f) => [f, s[f]])) as StatsValues,
    ]),
  );
}

async function clickhouseGroups(select: SelectRows, topic: string): Promise<Map<string, StatsValues>> {
  const rows = await select(
    `SELECT service, endpoint, region, toUnixTimestamp64Milli(window_start) AS minute_ms,
       ${SUMMED.map((f) => `sum(${f})`).join(', ')}, min(latency_min_ms), max(latency_max_ms)
     FROM ${STATS_TABLE} WHERE _topic = ${quote(topic)}
     GROUP BY service, endpoint, region, minute_ms`,
  );
  return new Map(
    rows.map((r) => [
      groupKey(String(r[0]), String(r[1]), String(r[2]), Number(r[3])),
      Object.fromEntries(STATS_FIELDS.map((f, i) => [f, Number(r[4 + i])])) as StatsValues,
    ]),
  );
}

/** Every field of every group where `actual` differs from `expected` (keys from `truthGroups`). */
export function compareGroups(
  expected: ReadonlyMap<string, StatsValues>,
  actual: ReadonlyMap<string, StatsValues>,
): StatsDifference[] {
  const zero = Object.fromEntries(STATS_FIELDS.map((f) => [f, 0])) as StatsValues;
  const differences: StatsDifference[] = [];
  for (const key of new Set([...expected.keys(), ...actual.keys()])) {
    const [service = '', endpoint = '', region = '', minuteMs = '0'] = key.split('\u0000');
    const want = expected.get(key) ?? zero;
    const got = actual.get(key) ?? zero;
    const minute = new Date(Number(minuteMs)).toISOString().slice(0, 16);
    for (const field of STATS_FIELDS) {
      if (want[field] === got[field]) continue;
      const [e, a] = [want[field], got[field]];
      differences.push({
        service,
        endpoint,
        region,
        minute,
        field,
        expected: e,
        actual: a,
        difference: a - e,
      });
    }
  }
  const order = (d: StatsDifference): string =>
    [d.minute, d.service, d.endpoint, d.region, String(STATS_FIELDS.indexOf(d.field)).padStart(2, '0')].join(
      '\u0000',
    );
  return differences.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}

/** True when the table exists (the sink has run migration 005). */
export async function statsTableExists(select: SelectRows): Promise<boolean> {
  const [[exists = 0] = []] = await select(`EXISTS TABLE ${STATS_TABLE}`);
  return Number(exists) === 1;
}

/** request_stats_1m against the truth, for the rows the sink took from `<run prefix>stats.1m`. */
export async function reconcileStats(truth: Truth, select: SelectRows): Promise<StatsReconciliation> {
  const topic = `${runPrefix(truth)}${STATS_TOPIC}`;
  const [[rows = 0, repeated = 0, notAMinute = 0] = []] = await select(
    `SELECT count(), count() - uniqExact(service, endpoint, region, window_start, revision),
       countIf(dateDiff('millisecond', window_start, window_end) != 60000)
     FROM ${STATS_TABLE} WHERE _topic = ${quote(topic)}`,
  );
  const expected = truthGroups(truth.stats_1m);
  const actual = await clickhouseGroups(select, topic);
  const differences = compareGroups(expected, actual);
  const differing = new Set(differences.map((d) => [d.service, d.endpoint, d.region, d.minute].join('|')));
  const total = (groups: ReadonlyMap<string, StatsValues>, field: StatsField): number =>
    [...groups.values()].reduce((sum, g) => sum + g[field], 0);
  const checks: ReconcileCheck[] = [
    { check: 'groups (service, endpoint, region, minute)', expected: expected.size, actual: actual.size },
    { check: 'groups that differ', expected: 0, actual: differing.size },
    { check: 'rows repeating a (group, revision)', expected: 0, actual: Number(repeated) },
    { check: 'rows whose window is not one minute', expected: 0, actual: Number(notAMinute) },
    ...SUMMED.map((f) => ({ check: `sum of ${f}`, expected: total(expected, f), actual: total(actual, f) })),
  ].map((c) => ({ ...c, ok: c.expected === c.actual }));
  return { ok: checks.every((c) => c.ok), checks, differences, rows: Number(rows) };
}
