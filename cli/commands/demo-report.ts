// What `tributary demo` prints once the pipeline has stopped: every check's table, the run's summary, and
// where to look at the results next.
import { textTable } from '../../runtime/observability/terminal.ts';
import type { CopyExit } from '../../infra/pipeline/supervisor.ts';
import type { ResultsSettings } from '../../connectors/clickhouse/query/read-results.ts';
import type {
  ClickHouseReconciliation,
  EnrichedReconciliation,
  LoadgenResult,
  TopicsReconciliation,
  Truth,
} from '../../loadgen/index.ts';
import { reconciliationTables } from './reconcile.ts';
import { incidentsTable } from './demo-stats.ts';

/** The demo's checks against the truth, and what it measured, taken before the pipeline stops. */
export interface DemoChecks {
  topics: TopicsReconciliation;
  inClickHouse: ClickHouseReconciliation;
  enriched: EnrichedReconciliation;
  /** Undefined when the aggregate is not a pipeline member. */
  stats: { ok: boolean; text: string } | undefined;
  alerts: { ok: boolean; text: string };
  /** The per-service health view, as text. */
  health: string;
  /** Produce → queryable latency, in ms. */
  latency: { p50: number; p99: number };
  /** Every check passed. */
  ok: boolean;
}

export interface DemoReport {
  loadgen: LoadgenResult;
  checks: DemoChecks;
  exits: CopyExit[];
  /** From the first record produced until every consumer group had caught up. */
  seconds: number;
  askedRate: number;
  prefix: string;
  clickhouse: ResultsSettings;
}

export function printDemoReport(report: DemoReport): void {
  printChecks(report.checks, report.loadgen.truth);
  console.log(summaryTable(report));
  printWhereToLook(report);
}

function printChecks(checks: DemoChecks, truth: Truth): void {
  const { topics, enriched, stats } = checks;
  const kafkaTable = textTable({ head: ['Kafka / enriched check', 'expected (truth)', 'actual', ''] });
  for (const c of [...topics.checks, ...enriched.checks])
    kafkaTable.push([
      c.check,
      c.expected.toLocaleString(),
      c.actual.toLocaleString(),
      c.ok ? 'ok' : 'MISMATCH',
    ]);
  console.log(`\n${kafkaTable.toString()}\n${reconciliationTables(checks.inClickHouse)}`);
  if (stats !== undefined) console.log(stats.text);
  console.log(incidentsTable(truth));
  console.log(checks.alerts.text);
  console.log(checks.health);
}

function summaryTable(report: DemoReport): string {
  const { loadgen, checks, exits, seconds, askedRate } = report;
  const { p50, p99 } = checks.latency;
  const events = loadgen.truth.acknowledged.deliveries;
  const summary = textTable();
  summary.push(
    { 'events produced': events.toLocaleString() },
    {
      'valid / dead letters / duplicates': `${loadgen.truth.valid_events.toLocaleString()} / ${checks.topics.checks.find((c) => c.check === 'dead letters')?.actual.toLocaleString()} / ${loadgen.truth.duplicates.toLocaleString()}`,
    },
    {
      'sustained throughput': `${Math.round(events / seconds).toLocaleString()} events/s end to end (asked ${askedRate.toLocaleString()})`,
    },
    { 'produce → queryable latency': `p50 ${Math.round(p50)} ms, p99 ${Math.round(p99)} ms` },
    { 'processes stopped': exits.map((e) => `${e.copy} exit ${e.code}`).join(', ') },
    { reconciliation: checks.ok ? 'EXACT' : 'FAILED' },
  );
  return summary.toString();
}

/** The truth file, queries to try, and the first enriched cells that differ. */
function printWhereToLook(report: DemoReport): void {
  const { loadgen, prefix, clickhouse } = report;
  console.log(
    `\nGround truth: ${loadgen.truthPath}\nQuery the results (ClickHouse data in ${clickhouse.clickhouseDataDir}):`,
  );
  console.log(
    `  ./tributary query "SELECT service, count(), countIf(status >= 500) FROM requests WHERE _topic = '${prefix}requests.enriched' GROUP BY service ORDER BY 2 DESC"`,
  );
  console.log(`  ./tributary reconcile ${loadgen.runId}`);
  console.log(
    `  while the sink runs (./tributary start): curl 'http://127.0.0.1:${clickhouse.queryPort}/?query=SELECT+count()+FROM+requests'`,
  );
  for (const m of report.checks.enriched.cells.slice(0, 10))
    console.log(`  enriched cell ${m.cell}: expected ${m.expected}, got ${m.actual}`);
}
