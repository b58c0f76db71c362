// End to end: load generator → ingest → enrich → aggregate → alert, and the ClickHouse sink writing
// requests.enriched, requests.dlq, stats.1m and alerts: the whole pipeline `tributary start` runs, one copy
// of each member, supervised as real processes on the bench's stack. Phase 1 pushes as fast as the
// generator goes and measures what the whole pipeline sustains (events over the time until every group
// has caught up) and every process's peak RSS. Phase 2, on the same warm processes, runs at half that
// rate in real time and reads produce-to-queryable latency from ClickHouse: ingested_at is the raw
// record's produce time, _inserted_at the moment its enriched row landed, so the figure spans ingest,
// enrich and the sink.
import { join } from 'node:path';
import { selectRows } from '../connectors/clickhouse/index.ts';
import type { ResultsSettings } from '../connectors/clickhouse/index.ts';
import { Supervisor } from '../infra/pipeline/supervisor.ts';
import { findFreePort } from '../infra/stack/stack.ts';
import {
  buildFleet,
  generatorOptionsSchema,
  loadReferenceData,
  referenceTimeline,
  runLoadgen,
  startEndingAt,
} from '../loadgen/index.ts';
import type { GeneratorOptions } from '../loadgen/index.ts';
import { waitForGroupCaughtUp } from '../runtime/kafka/index.ts';
import { HttpSchemaRegistry } from '../runtime/serde/index.ts';
import { residentMb } from './processor-throughput.ts';

const PARTITIONS = 6;
const SEED = 9;
/** Event time each phase's traffic spans: enough minutes for windows to close and rules to judge them. */
const EVENT_SPAN_S = 600;
const MAX_PHASE_EVENTS = 300_000;
const HALF_PHASE_SECONDS = 20;

/** What each group must have read before a phase counts as done: every stage, every sink input. */
const CAUGHT_UP: ReadonlyArray<[group: string, topic: string]> = [
  ['ingest', 'requests.raw'],
  ['enrich', 'requests.valid'],
  ['aggregate', 'requests.enriched'],
  ['alert', 'stats.1m'],
  ...['requests.enriched', 'requests.dlq', 'stats.1m', 'alerts'].map(
    (topic) => ['clickhouse-sink', topic] as [string, string],
  ),
];

/** The name a member's figures carry: `clickhouse-sink` is `sink`, as in the goals. */
const FIGURE_NAME: Record<string, string> = { 'clickhouse-sink': 'sink' };

interface Phase {
  brokers: string;
  registryUrl: string;
  prefix: string;
  generator: GeneratorOptions;
  workDir: string;
}

/** Publishes the phase's reference data (its changes over the run's event time included). */
async function loadReference(phase: Phase): Promise<void> {
  await loadReferenceData({
    brokers: phase.brokers,
    registry: new HttpSchemaRegistry(phase.registryUrl),
    topicPrefix: phase.prefix,
    fleet: { seed: SEED },
    timeline: referenceTimeline(buildFleet({ seed: SEED }), phase.generator),
  });
}

/** Produces the phase's traffic and waits until every stage has read all of it. */
async function runTraffic(phase: Phase): Promise<{ seconds: number; events: number }> {
  const started = Date.now();
  const result = await runLoadgen({
    brokers: phase.brokers,
    topicPrefix: phase.prefix,
    partitions: PARTITIONS,
    generator: phase.generator,
    runsDir: join(phase.workDir, 'runs'),
    progress: false,
  });
  for (const [group, topic] of CAUGHT_UP)
    await waitForGroupCaughtUp(phase.brokers, `${phase.prefix}${group}`, `${phase.prefix}${topic}`, 600_000);
  return { seconds: (Date.now() - started) / 1000, events: result.truth.acknowledged.deliveries };
}

function pipeline(phase: Phase, clickhouse: ResultsSettings): Supervisor {
  return new Supervisor({
    members: [
      { name: 'ingest', copies: 1 },
      { name: 'enrich', copies: 1 },
      { name: 'aggregate', copies: 1 },
      { name: 'alert', copies: 1 },
      // As in `tributary start`: requests gets enrich's rows, not ingest's as well.
      { name: 'clickhouse-sink', copies: 1, env: { TRIBUTARY_SINK_SKIP_TOPICS: 'requests.valid' } },
    ],
    env: {
      TRIBUTARY_KAFKA_BROKERS: phase.brokers,
      TRIBUTARY_REGISTRY_URL: phase.registryUrl,
      TRIBUTARY_TOPIC_PREFIX: phase.prefix,
      TRIBUTARY_DEFAULT_PARTITIONS: String(PARTITIONS),
      TRIBUTARY_STATE_DIR: join(phase.workDir, 'e2e-state'),
      TRIBUTARY_LOG_LEVEL: process.env['BENCH_E2E_LOG_LEVEL'] ?? 'warn',
      TRIBUTARY_CLICKHOUSE_DATA_DIR: clickhouse.clickhouseDataDir,
      TRIBUTARY_QUERY_PORT: String(clickhouse.queryPort),
    },
    logDir: join(phase.workDir, 'e2e-logs'),
    // A bench stops its copies only at the end; a restart would show in the figures and the logs.
    liveness: false,
  });
}

/**
 * Peak RSS per member while `during` runs, sampled every 250 ms, with the part of it that was mapped files
 * then (code pages: the sink's libchdb alone is about 190 MB); every 5 s a line with each member's events/s
 * and lag, so a stage that falls behind shows while it happens.
 */
async function watched<T>(
  supervisor: Supervisor,
  say: (line: string) => void,
  during: () => Promise<T>,
): Promise<{ result: T; peakMb: Map<string, { rss: number; files: number }> }> {
  const peakMb = new Map<string, { rss: number; files: number }>();
  const sampler = setInterval(() => {
    for (const copy of supervisor.status()) {
      const now = copy.pid === undefined ? undefined : residentMb(copy.pid);
      if (now !== undefined && now.rss > (peakMb.get(copy.member)?.rss ?? 0)) peakMb.set(copy.member, now);
    }
  }, 250);
  const started = Date.now();
  await supervisor.observe(); // the first rates are then per 5 s of this phase
  const reporter = setInterval(() => {
    void supervisor.observe().then((members) => {
      const parts = members.map(
        (m) =>
          `${FIGURE_NAME[m.name] ?? m.name} ${Math.round(m.eventsPerS).toLocaleString('en-US')}/s lag ${m.lag === undefined ? '?' : m.lag.toLocaleString('en-US')}`,
      );
      say(`  ${Math.round((Date.now() - started) / 1000)} s: ${parts.join(' · ')}`);
    });
  }, 5000);
  try {
    return { result: await during(), peakMb };
  } finally {
    clearInterval(sampler);
    clearInterval(reporter);
  }
}

export async function benchEndToEnd(options: {
  brokers: string;
  registryUrl: string;
  workDir: string;
  say: (line: string) => void;
}): Promise<Record<string, number>> {
  const clickhouse: ResultsSettings = {
    clickhouseDataDir: join(options.workDir, 'e2e-clickhouse'),
    clickhouseUser: 'default',
    clickhousePassword: '',
    clickhouseDatabase: 'default',
    queryPort: await findFreePort(),
  };
  const prefix = 'bench-e2e.';
  // Full speed: the event time spans EVENT_SPAN_S and ends now, so no event is ahead of the wall clock.
  const shape = {
    count: MAX_PHASE_EVENTS,
    rate: 1_000_000,
    timeScale: (EVENT_SPAN_S * 1_000_000) / MAX_PHASE_EVENTS,
  };
  const maxPhase: Phase = {
    ...options,
    prefix,
    generator: generatorOptionsSchema.parse({
      seed: SEED,
      ...shape,
      startMs: startEndingAt(Date.now(), shape),
    }),
  };
  await loadReference(maxPhase);
  const supervisor = pipeline(maxPhase, clickhouse);
  const figures: Record<string, number> = {};
  try {
    await supervisor.start();
    await supervisor.waitUntilReady();
    // BENCH_E2E_RATE=N: only the latency phase, at N events/s (to study latency without the max phase).
    let rate = Number(process.env['BENCH_E2E_RATE'] ?? 0);
    if (rate <= 0) {
      options.say(
        `e2e: ${MAX_PHASE_EVENTS.toLocaleString('en-US')} events at full speed through ingest, enrich, aggregate, alert and the sink`,
      );
      const { result, peakMb } = await watched(supervisor, options.say, () => runTraffic(maxPhase));
      figures['e2e_events_per_s'] = result.events / result.seconds;
      for (const [member, mb] of peakMb) {
        figures[`e2e_rss_${FIGURE_NAME[member] ?? member}_mb`] = mb.rss;
        figures[`e2e_rss_${FIGURE_NAME[member] ?? member}_files_mb`] = mb.files;
      }
      rate = Math.max(1000, Math.round(result.events / result.seconds / 2));
    }
    // Half that rate on the same, warm pipeline, in real time after the first phase's events.
    const startMs = Date.now();
    const halfPhase: Phase = {
      ...maxPhase,
      generator: generatorOptionsSchema.parse({
        seed: SEED,
        count: rate * HALF_PHASE_SECONDS,
        rate,
        startMs,
      }),
    };
    options.say(
      `e2e: ${HALF_PHASE_SECONDS} s at ${rate.toLocaleString('en-US')} events/s, produce → queryable`,
    );
    await watched(supervisor, options.say, () => runTraffic(halfPhase));
    const latency = `dateDiff('millisecond', ingested_at, _inserted_at)`;
    const rows = await selectRows(
      `SELECT quantiles(0.5, 0.99)(${latency}) FROM requests WHERE _topic = '${prefix}requests.enriched' AND ingested_at >= fromUnixTimestamp64Milli(toInt64(${startMs}), 'UTC')`,
      clickhouse,
    );
    const [p50 = 0, p99 = 0] = (rows.data[0]?.[0] as number[] | undefined) ?? [];
    figures['e2e_latency_rate_events_per_s'] = rate;
    figures['e2e_latency_p50_ms'] = p50;
    figures['e2e_latency_p99_ms'] = p99;
    const restarts = supervisor.status().filter((c) => c.restarts > 0);
    if (restarts.length > 0)
      throw new Error(
        `e2e: ${restarts.map((c) => `${c.member} restarted ${c.restarts}×`).join(', ')} (logs in ${restarts[0]?.logFile})`,
      );
  } finally {
    await supervisor.stop();
  }
  return figures;
}
