// `tributary demo`: the pipeline end to end on the local stack, judged against the load generator's
// ground truth in Kafka and in ClickHouse. Every step prints a line; the summary is a table; exit 1 when
// reconciliation fails.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { stackDefaults } from '../../infra/stack/defaults.ts';
import type { StackDefaults } from '../../infra/stack/defaults.ts';
import { startStack, stopStack } from '../../infra/stack/stack.ts';
import type { StartResult } from '../../infra/stack/stack.ts';
import { Supervisor } from '../../infra/pipeline/supervisor.ts';
import type { CopyExit } from '../../infra/pipeline/supervisor.ts';
import { clickhouseConfigShape } from '../../connectors/clickhouse/config.ts';
import { selectRows } from '../../connectors/clickhouse/query/read-results.ts';
import type { ResultsSettings } from '../../connectors/clickhouse/query/read-results.ts';
import {
  buildFleet,
  generatorOptionsSchema,
  loadReferenceData,
  reconcileEnriched,
  referenceTimeline,
  reconcileClickHouse,
  reconcileIngestTopics,
  runLoadgen,
} from '../../loadgen/index.ts';
import type { GeneratorOptions, LoadgenResult, SelectRows, Truth } from '../../loadgen/index.ts';
import { PIPELINE_MEMBERS } from '../../infra/pipeline/members.ts';
import { loadConfig } from '../../runtime/index.ts';
import { waitForGroupCaughtUp } from '../../runtime/kafka/index.ts';
import { HttpSchemaRegistry } from '../../runtime/serde/index.ts';
import type { Command } from '../command.ts';
import { numberOption, parseArgs } from '../command.ts';
import { demoGenerator, reconcileDemoStats } from './demo-stats.ts';
import { reconcileDemoAlerts, startAlertReceiver } from './demo-alerts.ts';
import type { AlertReceiver } from './demo-alerts.ts';
import { printDemoReport } from './demo-report.ts';
import type { DemoChecks } from './demo-report.ts';
import { runHealthView } from '../health-view.ts';

const PARTITIONS = 6;

function step(text: string): void {
  console.log(`▶ ${text}`);
}

export const demoCommand: Command = {
  name: 'demo',
  usage: 'demo [--duration 60] [--rate 5000] [--time-scale 30] [--copies 2] [--keep-stack]',
  summary: 'run the pipeline end to end on a local stack and reconcile ClickHouse with the ground truth',
  async run(args) {
    const options = parseDemoOptions(args);
    const defaults = stackDefaults();
    const clickhouse = loadConfig('demo', z.object(clickhouseConfigShape));
    const stack = await startDemoStack(defaults);
    const demo = prepareRun(options, clickhouse, stack, defaults.dataDir);
    const receiver = await startAlertReceiver();
    const supervisor = demoSupervisor(demo, receiver);
    let exits: CopyExit[] | undefined; // until set, the pipeline runs and `finally` stops it
    try {
      const generator = await loadDemoReferenceData(demo);
      await startPipeline(demo, supervisor);
      const { loadgen, startedAt } = await runLoad(demo, generator);
      await waitForCatchUp(demo);
      const seconds = (Date.now() - startedAt) / 1000;
      const checks = await reconcileRun(demo, receiver, loadgen.truth);
      exits = await supervisor.stop();
      printDemoReport({
        loadgen,
        checks,
        exits,
        seconds,
        askedRate: options.rate,
        prefix: demo.prefix,
        clickhouse,
      });
      return checks.ok && exits.every((e) => e.code === 0) ? 0 : 1;
    } finally {
      if (exits === undefined) await supervisor.stop();
      await receiver.close();
      await releaseStack(stack, options.keepStack, defaults.dataDir);
    }
  },
};

interface DemoOptions {
  durationS: number;
  rate: number;
  copies: number;
  timeScale: number;
  keepStack: boolean;
}

function parseDemoOptions(args: string[]): DemoOptions {
  const { options } = parseArgs(args);
  const durationS = numberOption(options, 'duration', 60);
  const rate = numberOption(options, 'rate', 5000);
  const copies = numberOption(options, 'copies', 2);
  const timeScale = numberOption(options, 'time-scale', 30);
  return { durationS, rate, copies, timeScale, keepStack: options.has('keep-stack') };
}

/** One demo run: its options, where it lives (topic prefix, log and state directory) and its stack. */
interface DemoRun {
  options: DemoOptions;
  clickhouse: ResultsSettings;
  stack: StartResult;
  prefix: string;
  runDir: string;
  runsAggregate: boolean;
}

function startDemoStack(defaults: StackDefaults): Promise<StartResult> {
  step(`starting the local stack (Kafka + schema registry, data in ${defaults.dataDir})`);
  return startStack({ ...defaults, onProgress: (line) => console.log(`  ${line}`) });
}

/** Names the run after the time it starts and makes its directory. */
function prepareRun(
  options: DemoOptions,
  clickhouse: ResultsSettings,
  stack: StartResult,
  dataDir: string,
): DemoRun {
  const prefix = `demo-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}.`;
  const runDir = join(dataDir, '..', 'demo', prefix.slice(0, -1));
  mkdirSync(runDir, { recursive: true });
  // The aggregate joins the demo once it is a pipeline member; its stats are reconciled then.
  const runsAggregate = PIPELINE_MEMBERS.some((m) => m.name === 'aggregate');
  return { options, clickhouse, stack, prefix, runDir, runsAggregate };
}

function demoSupervisor(demo: DemoRun, receiver: AlertReceiver): Supervisor {
  const { copies } = demo.options;
  return new Supervisor({
    members: [
      { name: 'ingest', copies },
      { name: 'enrich', copies },
      ...(demo.runsAggregate ? [{ name: 'aggregate', copies }] : []),
      { name: 'alert', copies },
      { name: 'notifier', copies: 1, env: { TRIBUTARY_NOTIFIER_ALERTMANAGER_URLS: receiver.url } },
      { name: 'clickhouse-sink', copies: 1, env: { TRIBUTARY_SINK_SKIP_TOPICS: 'requests.valid' } },
    ],
    env: {
      TRIBUTARY_KAFKA_BROKERS: demo.stack.brokers,
      TRIBUTARY_REGISTRY_URL: demo.stack.registryUrl,
      TRIBUTARY_TOPIC_PREFIX: demo.prefix,
      TRIBUTARY_DEFAULT_PARTITIONS: String(PARTITIONS),
      TRIBUTARY_STATE_DIR: join(demo.runDir, 'state'),
    },
    logDir: demo.runDir,
    onEvent: (event) => {
      if (event.type === 'exited' && event.restartInMs !== undefined) {
        console.log(`  ${event.copy} exited unexpectedly (${event.description}); the supervisor restarts it`);
      }
    },
  });
}

/** Fixes the run's event time first: its reference data, changes included, is published for it. */
async function loadDemoReferenceData(demo: DemoRun): Promise<GeneratorOptions> {
  const { durationS, rate, timeScale } = demo.options;
  const { stack, prefix } = demo;
  const generator = generatorOptionsSchema.parse(demoGenerator(rate, durationS, timeScale));
  const timeline = referenceTimeline(buildFleet({ seed: 1 }), generator);
  step(
    `loading reference data into ${prefix}ref.services and ${prefix}ref.customers (${timeline.changes.length} changes during the run)`,
  );
  await loadReferenceData({
    brokers: stack.brokers,
    registry: new HttpSchemaRegistry(stack.registryUrl),
    topicPrefix: prefix,
    fleet: { seed: 1 },
    timeline,
  });
  return generator;
}

async function startPipeline(demo: DemoRun, supervisor: Supervisor): Promise<void> {
  step(
    `starting ${demo.options.copies} copies each of ingest, enrich, aggregate and alert, the notifier (to a local Alertmanager receiver) and the ClickHouse sink (logs in ${demo.runDir})`,
  );
  await supervisor.start();
  // Traffic starts once every copy has joined its group, so start-up does not count as latency.
  await supervisor.waitUntilReady();
}

/** Produces the run's traffic; `startedAt` (epoch ms) is when producing began. */
async function runLoad(
  demo: DemoRun,
  generator: GeneratorOptions,
): Promise<{ loadgen: LoadgenResult; startedAt: number }> {
  const { durationS, rate, timeScale } = demo.options;
  step(
    `generating ${durationS} s of traffic at ${rate} events/s, ${Math.round((durationS * timeScale) / 60)} min of event time (bad, duplicate, late events and an incident of each kind included)`,
  );
  const startedAt = Date.now();
  const loadgen = await runLoadgen({
    brokers: demo.stack.brokers,
    topicPrefix: demo.prefix,
    partitions: PARTITIONS,
    generator,
  });
  return { loadgen, startedAt };
}

async function waitForCatchUp(demo: DemoRun): Promise<void> {
  const { stack, prefix } = demo;
  step('waiting until every consumer group has caught up');
  await waitForGroupCaughtUp(stack.brokers, `${prefix}ingest`, `${prefix}requests.raw`);
  await waitForGroupCaughtUp(stack.brokers, `${prefix}enrich`, `${prefix}requests.valid`);
  for (const topic of ['requests.enriched', 'requests.dlq']) {
    await waitForGroupCaughtUp(stack.brokers, `${prefix}clickhouse-sink`, `${prefix}${topic}`);
  }
}

/** Every check of Kafka and ClickHouse against the truth, while the pipeline still runs. */
async function reconcileRun(demo: DemoRun, receiver: AlertReceiver, truth: Truth): Promise<DemoChecks> {
  const { stack, prefix, clickhouse } = demo;
  step('reconciling Kafka and ClickHouse with the ground truth');
  const topics = await reconcileIngestTopics({
    brokers: stack.brokers,
    registryUrl: stack.registryUrl,
    topicPrefix: prefix,
    partitions: PARTITIONS,
    truth,
  });
  const select = async (sql: string): Promise<unknown[][]> => (await selectRows(sql, clickhouse)).data;
  const inClickHouse = await reconcileClickHouse(truth, select, 'requests.enriched');
  const enriched = await reconcileEnriched(truth, select);
  const stats = demo.runsAggregate
    ? await reconcileDemoStats(truth, select, { brokers: stack.brokers, prefix, say: step })
    : undefined;
  step('waiting for the alert stage, the notifier and the sink to read every alert');
  const alerts = await reconcileDemoAlerts(truth, select, { brokers: stack.brokers, prefix, receiver });
  const health = await runHealthView(select, truth);
  const latency = await queryableLatency(select, prefix);
  const ok = topics.ok && inClickHouse.ok && enriched.ok && (stats?.ok ?? true) && alerts.ok;
  return { topics, inClickHouse, enriched, stats, alerts, health, latency, ok };
}

/** Produce → queryable latency of the run's enriched rows, p50 and p99 in ms. */
async function queryableLatency(select: SelectRows, prefix: string): Promise<{ p50: number; p99: number }> {
  const [[p50 = 0, p99 = 0] = []] = (
    await select(
      `SELECT quantiles(0.5, 0.99)(dateDiff('millisecond', ingested_at, _inserted_at)) FROM requests WHERE _topic = '${prefix}requests.enriched'`,
    )
  ).map((row) => row[0] as number[]);
  return { p50, p99 };
}

async function releaseStack(stack: StartResult, keepStack: boolean, dataDir: string): Promise<void> {
  if (keepStack || stack.alreadyRunning) {
    console.log(`stack left running (${stack.brokers}); stop it with ./tributary stack down`);
  } else {
    step('stopping the local stack (keep it with --keep-stack)');
    await stopStack(dataDir);
  }
}
