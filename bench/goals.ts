// The goals of issue 16 (and the bench's older ones) and the table that holds every figure against its
// goal. A missed goal is printed, never an exit code: the bench measures, people decide.
import { textTable } from '../runtime/observability/terminal.ts';

interface Goal {
  /** The figure's key, or a pattern for a family of figures (e2e_rss_<process>_mb). */
  figure: string | RegExp;
  op: '>=' | '<=';
  /** A number, or one computed from other figures of the run (undefined: not judged this run). */
  target: number | ((figures: Readonly<Record<string, number>>) => number | undefined);
  /** Shown in the goal column, e.g. `≥ 0.7 of pass-through`. */
  says: string;
}

export const GOALS: readonly Goal[] = [
  {
    figure: 'passthrough_vs_kafka_streams',
    op: '>=',
    target: 1.0,
    says: '≥ 1.0 of Kafka Streams pass-through',
  },
  { figure: 'ingest_ratio', op: '>=', target: 0.7, says: '≥ 0.7 of pass-through' },
  { figure: 'enrich_ratio', op: '>=', target: 0.8, says: '≥ 0.8 of pass-through' },
  { figure: 'aggregate_vs_kafka_streams', op: '>=', target: 1.0, says: '≥ 1.0 of Kafka Streams aggregate' },
  { figure: 'sink_ratio', op: '>=', target: 0.8, says: '≥ 0.8 of direct insert' },
  { figure: 'e2e_events_per_s', op: '>=', target: 15_000, says: '≥ 15,000 (aim 20,000)' },
  { figure: 'queryable_latency_p99_ms', op: '<=', target: 2_000, says: '≤ 2,000 ms' },
  { figure: 'e2e_latency_p99_ms', op: '<=', target: 2_000, says: '≤ 2,000 ms' },
  {
    figure: /^(ingest|enrich|passthrough|aggregate)_rss_steady_mb$/,
    op: '<=',
    target: 250,
    says: '≤ 250 MB',
  },
  { figure: /^e2e_rss_(ingest|enrich|aggregate|alert)_mb$/, op: '<=', target: 250, says: '≤ 250 MB' },
  { figure: /^e2e_rss_sink_mb$/, op: '<=', target: 600, says: '≤ 600 MB' },
  { figure: 'loadgen_events_per_s', op: '>=', target: 100_000, says: '≥ 100,000' },
  {
    figure: 'restore_read_mb',
    op: '<=',
    target: (f) => (f['restore_state_mb'] === undefined ? undefined : 2 * f['restore_state_mb']),
    says: '≤ 2 × restore_state_mb',
  },
  { figure: 'restore_seconds', op: '<=', target: 300, says: '≪ max.poll.interval.ms (300 s)' },
  { figure: 'aggregate_restore_seconds', op: '<=', target: 300, says: '≪ max.poll.interval.ms (300 s)' },
];

function goalOf(key: string): Goal | undefined {
  return GOALS.find((g) => (typeof g.figure === 'string' ? g.figure === key : g.figure.test(key)));
}

export interface GoalVerdict {
  figure: string;
  value: number;
  goal: string;
  /** value / target: >= 1 is good for a floor, <= 1 for a ceiling. */
  ofGoal: number;
  met: boolean;
}

export function judge(figures: Readonly<Record<string, number>>): GoalVerdict[] {
  const verdicts: GoalVerdict[] = [];
  for (const [figure, value] of Object.entries(figures)) {
    const goal = goalOf(figure);
    const target = typeof goal?.target === 'function' ? goal.target(figures) : goal?.target;
    if (goal === undefined || target === undefined) continue;
    const met = goal.op === '>=' ? value >= target : value <= target;
    verdicts.push({ figure, value, goal: goal.says, ofGoal: value / target, met });
  }
  return verdicts;
}

function shown(key: string, value: number): string {
  if (key.endsWith('_ratio') || key.endsWith('_seconds') || key.includes('_vs_')) return value.toFixed(2);
  if (key.endsWith('_per_event')) return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
}

/** Every figure, with its goal, how far it is of the goal, and whether it met it; then the misses. */
export function goalsTable(figures: Readonly<Record<string, number>>): string {
  const verdicts = new Map(judge(figures).map((v) => [v.figure, v]));
  const table = textTable({ head: ['figure', 'value', 'goal', 'of goal', 'met'] });
  for (const [key, value] of Object.entries(figures)) {
    const verdict = verdicts.get(key);
    table.push([
      key,
      shown(key, value),
      verdict?.goal ?? '',
      verdict === undefined ? '' : verdict.ofGoal.toFixed(2),
      verdict === undefined ? '' : verdict.met ? 'yes' : 'MISSED',
    ]);
  }
  const missed = [...verdicts.values()].filter((v) => !v.met);
  const summary =
    missed.length === 0
      ? 'every figure with a goal met it'
      : `missed goals (${missed.length}): ${missed.map((v) => `${v.figure} ${shown(v.figure, v.value)} (goal ${v.goal})`).join('; ')}`;
  return `${table.toString()}\n${summary}`;
}
