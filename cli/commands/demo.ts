// `tributary demo`: the pipeline end to end on the local stack, judged against the load generator's
// ground truth in Kafka and in ClickHouse. Every step prints a line; the summary is a table; exit 1 when
// reconciliation fails.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { textTable } from '../../runtime/observability/terminal.ts';
import { z } from 'zod';
import { stackDefaults } from '../../infra/stack/defaults.ts';
import { startStack, stopStack } from '../../infra/stack/stack.ts';
import { Supervisor } from '../../infra/pipeline/supervisor.ts';
import { clickhouseConfigShape } from '../../connectors/clickhouse/config.ts';
import { selectRows } from '../../connectors/clickhouse/query/read-results.ts';
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
import { PIPELINE_MEMBERS } from '../../infra/pipeline/members.ts';
import { loadConfig } from '../../runtime/index.ts';
import { waitForGroupCaughtUp } from '../../runtime/kafka/index.ts';
import { HttpSchemaRegistry } from '../../runtime/serde/index.ts';
import type { Command } from '../command.ts';
import { numberOption, parseArgs } from '../command.ts';
import { reconciliationTables } from './reconcile.ts';
import { demoGenerator, incidentsTable, reconcileDemoStats } from './demo-stats.ts';
import { reconcileDemoAlerts, startAlertReceiver } from './demo-alerts.ts';
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
    const { options } = parseArgs(args);
    const durationS = numberOption(options, 'duration', 60);
    const rate = numberOption(options, 'rate', 5000);
    const copies = numberOption(options, 'copies', 2);
    const timeScale = numberOption(options, 'time-scale', 30);
    const keepStack = options.has('keep-stack');
    const defaults = stackDefaults();
    const clickhouse = loadConfig('demo', z.object(clickhouseConfigShape));

    step(`starting the local stack (Kafka + schema registry, data in ${defaults.dataDir})`);
    const stack = await startStack({ ...defaults, onProgress: (line) => console.log(`  ${line}`) });
    const prefix = `demo-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}.`;
    const runDir = join(defaults.dataDir, '..', 'demo', prefix.slice(0, -1));
    mkdirSync(runDir, { recursive: true });
    // The aggregate joins the demo once it is a pipeline member; its stats are reconciled then.
    const runsAggregate = PIPELINE_MEMBERS.some((m) => m.name === 'aggregate');
    const receiver = await startAlertReceiver();
    const supervisor = new Supervisor({
      members: [
        { name: 'ingest', copies },
        { name: 'enrich', copies },
        ...(runsAggregate ? [{ name: 'aggregate', copies }] : []),
        { name: 'alert', copies },
        { name: 'notifier', copies: 1, env: { TRIBUTARY_NOTIFIER_ALERTMANAGER_URLS: receiver.url } },
        { name: 'clickhouse-sink', copies: 1, env: { TRIBUTARY_SINK_SKIP_TOPICS: 'requests.valid' } },
      ],
      env: {
        TRIBUTARY_KAFKA_BROKERS: stack.brokers,
        TRIBUTARY_REGISTRY_URL: stack.registryUrl,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        TRIBUTARY_DEFAULT_PARTITIONS: String(PARTITIONS),
        TRIBUTARY_STATE_DIR: join(runDir, 'state'),
      },
      logDir: runDir,
      onEvent: (event) => {
        if (event.type === 'exited' && event.restartInMs !== undefined) {
          console.log(
            `  ${event.copy} exited unexpectedly (${event.description}); the supervisor restarts it`,
          );
        }
      },
    });
    let stopped = false;
    try {
      // The run's event time is fixed first: its reference data, changes included, is published for it.
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
      step(
        `starting ${copies} copies each of ingest, enrich, aggregate and alert, the notifier (to a local Alertmanager receiver) and the ClickHouse sink (logs in ${runDir})`,
      );
      await supervisor.start();
      // Traffic starts once every copy has joined its group, so start-up does not count as latency.
      await supervisor.waitUntilReady();
      step(
        `generating ${durationS} s of traffic at ${rate} events/s, ${Math.round((durationS * timeScale) / 60)} min of event time (bad, duplicate, late events and an incident of each kind included)`,
      );
      const startedAt = Date.now();
      const loadgen = await runLoadgen({
        brokers: stack.brokers,
        topicPrefix: prefix,
        partitions: PARTITIONS,
        generator,
      });
      step('waiting until every consumer group has caught up');
      await waitForGroupCaughtUp(stack.brokers, `${prefix}ingest`, `${prefix}requests.raw`);
      await waitForGroupCaughtUp(stack.brokers, `${prefix}enrich`, `${prefix}requests.valid`);
      for (const topic of ['requests.enriched', 'requests.dlq']) {
        await waitForGroupCaughtUp(stack.brokers, `${prefix}clickhouse-sink`, `${prefix}${topic}`);
      }
      const seconds = (Date.now() - startedAt) / 1000;
      step('reconciling Kafka and ClickHouse with the ground truth');
      const topics = await reconcileIngestTopics({
        brokers: stack.brokers,
        registryUrl: stack.registryUrl,
        topicPrefix: prefix,
        partitions: PARTITIONS,
        truth: loadgen.truth,
      });
      const select = async (sql: string): Promise<unknown[][]> => (await selectRows(sql, clickhouse)).data;
      const inClickHouse = await reconcileClickHouse(loadgen.truth, select, 'requests.enriched');
      const enriched = await reconcileEnriched(loadgen.truth, select);
      const stats = runsAggregate
        ? await reconcileDemoStats(loadgen.truth, select, { brokers: stack.brokers, prefix, say: step })
        : undefined;
      step('waiting for the alert stage, the notifier and the sink to read every alert');
      const alerts = await reconcileDemoAlerts(loadgen.truth, select, {
        brokers: stack.brokers,
        prefix,
        receiver,
      });
      const health = await runHealthView(select, loadgen.truth);
      const [[p50 = 0, p99 = 0] = []] = (
        await select(
          `SELECT quantiles(0.5, 0.99)(dateDiff('millisecond', ingested_at, _inserted_at)) FROM requests WHERE _topic = '${prefix}requests.enriched'`,
        )
      ).map((row) => row[0] as number[]);
      const exits = await supervisor.stop();
      stopped = true;

      const kafkaTable = textTable({ head: ['Kafka / enriched check', 'expected (truth)', 'actual', ''] });
      for (const c of [...topics.checks, ...enriched.checks])
        kafkaTable.push([
          c.check,
          c.expected.toLocaleString(),
          c.actual.toLocaleString(),
          c.ok ? 'ok' : 'MISMATCH',
        ]);
      console.log(`\n${kafkaTable.toString()}\n${reconciliationTables(inClickHouse)}`);
      if (stats !== undefined) console.log(stats.text);
      console.log(incidentsTable(loadgen.truth));
      console.log(alerts.text);
      console.log(health);
      const events = loadgen.truth.acknowledged.deliveries;
      const summary = textTable();
      summary.push(
        { 'events produced': events.toLocaleString() },
        {
          'valid / dead letters / duplicates': `${loadgen.truth.valid_events.toLocaleString()} / ${topics.checks.find((c) => c.check === 'dead letters')?.actual.toLocaleString()} / ${loadgen.truth.duplicates.toLocaleString()}`,
        },
        {
          'sustained throughput': `${Math.round(events / seconds).toLocaleString()} events/s end to end (asked ${rate.toLocaleString()})`,
        },
        { 'produce → queryable latency': `p50 ${Math.round(p50)} ms, p99 ${Math.round(p99)} ms` },
        { 'processes stopped': exits.map((e) => `${e.copy} exit ${e.code}`).join(', ') },
        {
          reconciliation:
            topics.ok && inClickHouse.ok && enriched.ok && (stats?.ok ?? true) && alerts.ok
              ? 'EXACT'
              : 'FAILED',
        },
      );
      console.log(summary.toString());
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
      for (const m of enriched.cells.slice(0, 10))
        console.log(`  enriched cell ${m.cell}: expected ${m.expected}, got ${m.actual}`);
      const reconciled = topics.ok && inClickHouse.ok && enriched.ok && (stats?.ok ?? true) && alerts.ok;
      return reconciled && exits.every((e) => e.code === 0) ? 0 : 1;
    } finally {
      if (!stopped) await supervisor.stop();
      await receiver.close();
      if (keepStack || stack.alreadyRunning) {
        console.log(`stack left running (${stack.brokers}); stop it with ./tributary stack down`);
      } else {
        step('stopping the local stack (keep it with --keep-stack)');
        await stopStack(defaults.dataDir);
      }
    }
  },
};
