// The demo's load and its stats summary: the run's generator settings (compressed event time, one
// incident of each kind), the incidents it injected, and request_stats_1m reconciled with the truth once
// the aggregate's last windows have closed.
import { setTimeout as sleep } from 'node:timers/promises';
import { textTable } from '../../runtime/observability/terminal.ts';
import { waitForGroupCaughtUp } from '../../runtime/kafka/index.ts';
import {
  STATS_TABLE,
  buildFleet,
  eventSpanMs,
  incidentPerKind,
  incidentsOf,
  reconcileStats,
  startEndingAt,
  statsTableExists,
} from '../../loadgen/index.ts';
import type { GeneratorInput, SelectRows, StatsReconciliation, Truth } from '../../loadgen/index.ts';
import { statsReconciliationTables } from './reconcile-stats.ts';

/** Windows close on the watermark or, at the end of the stream, on the aggregate's idle timer. */
const STATS_WAIT_MS = 180_000;
const STATS_POLL_MS = 2_000;

/** Seed 1, `durationS` of wall clock at `rate`, `timeScale` times as much event time, ending at the wall clock. */
export function demoGenerator(rate: number, durationS: number, timeScale: number): GeneratorInput {
  const shape = { count: Math.round(rate * durationS), rate, timeScale };
  return {
    seed: 1,
    ...shape,
    startMs: startEndingAt(Date.now() + durationS * 1000, shape),
    incidents: incidentPerKind(buildFleet({ seed: 1 }), eventSpanMs(shape) / 1000),
  };
}

/** The incidents the run injected, with their event times (UTC) and offsets from the run's start. */
export function incidentsTable(truth: Truth): string {
  const table = textTable({
    head: ['incident injected', 'service', 'event time (UTC)', 'after the start', ''],
  });
  const offset = (ms: number): string => {
    const s = Math.round((ms - truth.event_time.from_ms) / 1000);
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  };
  const hhmmss = (ms: number): string => new Date(ms).toISOString().slice(11, 19);
  for (const i of incidentsOf(truth)) {
    const what =
      i.kind === 'error_burst'
        ? `${Math.round(i.magnitude * 100)}% 5xx`
        : i.kind === 'latency_spike'
          ? `latency x${i.magnitude}`
          : `traffic at ${Math.round(i.magnitude * 100)}%`;
    table.push([
      i.kind,
      i.service,
      `${hhmmss(i.startMs)}-${hhmmss(i.endMs)}`,
      `${offset(i.startMs)}-${offset(i.endMs)}`,
      what,
    ]);
  }
  return table.toString();
}

export interface DemoStatsContext {
  brokers: string;
  prefix: string;
  say: (line: string) => void;
}

/**
 * Waits until the aggregate has read everything and request_stats_1m equals the truth (or the wait runs
 * out), and gives the tables. Without the table (the sink predates migration 005) it says so and passes.
 */
export async function reconcileDemoStats(
  truth: Truth,
  select: SelectRows,
  context: DemoStatsContext,
): Promise<{ ok: boolean; text: string }> {
  await waitForGroupCaughtUp(
    context.brokers,
    `${context.prefix}aggregate`,
    `${context.prefix}requests.enriched`,
  );
  if (!(await statsTableExists(select)))
    return { ok: true, text: `no ${STATS_TABLE} table in ClickHouse: stats not reconciled` };
  context.say(
    `waiting for the aggregate's last windows to reach ${STATS_TABLE} (up to ${STATS_WAIT_MS / 1000} s)`,
  );
  let result: StatsReconciliation;
  const deadline = Date.now() + STATS_WAIT_MS;
  for (;;) {
    result = await reconcileStats(truth, select);
    if (result.ok || Date.now() >= deadline) break;
    await sleep(STATS_POLL_MS);
  }
  return { ok: result.ok, text: statsReconciliationTables(result) };
}
