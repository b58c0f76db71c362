// `npm run bench`: throughput and memory figures against a real local stack started for the run.
// Prints a table and writes bench/results/latest.json (one key per figure) so runs can be compared.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePorts, startStack, stopStack } from '../infra/stack/stack.ts';
import { EventGenerator, buildFleet, generatorOptionsSchema, runLoadgen } from '../loadgen/index.ts';
import { createTopics, produceRecords } from '../runtime/testing/kafka-test-kit.ts';
import type { TestRecord } from '../runtime/testing/kafka-test-kit.ts';
import { measureProcessor } from './processor-throughput.ts';
import { benchSink } from './sink-bench.ts';
import { benchEndToEnd } from './e2e-bench.ts';
import { benchRestore } from './restore-bench.ts';
import { benchAggregateRestore } from './aggregate-restore-bench.ts';
import { benchTable } from './table-bench.ts';
import { benchEnrich } from './enrich-bench.ts';
import { benchAggregate, benchKafkaStreamsPassthrough } from './peers-bench.ts';
import { goalsTable, judge } from './goals.ts';

const RESULTS = fileURLToPath(new URL('./results/latest.json', import.meta.url));
const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 300_000);
const PARTITIONS = 6;
/**
 * `restore` runs only the state-restore benchmark (a few minutes instead of the whole suite);
 * `aggregate-restore` only the aggregate's restore after a SIGKILL; `enrich` only the pass-through and
 * enrich; `peers` only the comparisons with Kafka Streams (pass-through, aggregate); `sink` only the
 * ClickHouse sink against its direct bulk insert; `e2e` only the whole pipeline end to end.
 * TRIBUTARY_CPU_PROFILE_DIR=dir makes every processor the bench starts write a V8 CPU profile there.
 */
const ONLY = process.env['BENCH_ONLY'];

function say(line: string): void {
  process.stderr.write(`▶ ${line}\n`);
}

/** The same raw events for every contender: generated once, bad and duplicate deliveries included. */
function rawEvents(count: number): TestRecord[] {
  const options = generatorOptionsSchema.parse({ seed: 3, count, rate: 1_000_000, startMs: Date.now() });
  const generator = new EventGenerator(buildFleet({ seed: 3 }), options);
  const records: TestRecord[] = [];
  for (let d = generator.next(); d !== undefined; d = generator.next())
    records.push({ key: d.key, value: d.value });
  return records;
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
  const [kafkaPort = 0, controllerPort = 0, registryPort = 0] = await findFreePorts(3);
  say(`starting a stack for the benchmark in ${workDir}`);
  const stack = await startStack({
    dataDir: join(workDir, 'stack'),
    kafkaPort,
    controllerPort,
    registryPort,
    onProgress: (l) => say(l),
  });
  const figures: Record<string, number> = {};
  try {
    if (ONLY === 'enrich') {
      await benchPassthroughAndEnrich(stack, workDir, figures);
    } else if (ONLY === 'peers') {
      await benchPeers(stack, workDir, figures);
    } else if (ONLY === 'sink') {
      say('ClickHouse sink against a direct bulk insert of the same rows');
      Object.assign(figures, await benchSink({ ...stack, workDir }));
    } else if (ONLY === 'e2e') {
      say('end to end: load generator → ingest → enrich → aggregate → alert, and the ClickHouse sink');
      Object.assign(figures, await benchEndToEnd({ ...stack, workDir, say }));
    } else if (ONLY === 'aggregate-restore') {
      await aggregateRestore(stack, workDir, figures);
    } else {
      if (ONLY !== 'restore') await benchProcessing(stack, workDir, figures);
      say('state restore: ingest dedup store, history hours long, against its live state');
      Object.assign(figures, await benchRestore({ brokers: stack.brokers, say }));
      if (ONLY !== 'restore') await aggregateRestore(stack, workDir, figures);
    }
  } finally {
    await stopStack(join(workDir, 'stack'));
    rmSync(workDir, { recursive: true, force: true });
  }
  console.log(goalsTable(figures));
  const missed = judge(figures)
    .filter((v) => !v.met)
    .map((v) => v.figure);
  mkdirSync(join(RESULTS, '..'), { recursive: true });
  const results = { measured_at: new Date().toISOString(), events: EVENTS, ...figures, missed_goals: missed };
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  say(`figures written to ${RESULTS}`);
}

async function benchProcessing(
  stack: { brokers: string; registryUrl: string },
  workDir: string,
  figures: Record<string, number>,
): Promise<void> {
  say(`load generator: 500,000 events as fast as it can`);
  const loadgen = await runLoadgen({
    brokers: stack.brokers,
    topicPrefix: 'bench-loadgen.',
    partitions: PARTITIONS,
    generator: generatorOptionsSchema.parse({
      seed: 5,
      count: 500_000,
      rate: 2_000_000,
      startMs: Date.now(),
    }),
    runsDir: join(workDir, 'runs'),
    progress: false,
  });
  figures['loadgen_events_per_s'] = loadgen.summary.achievedRate;

  say(`pre-producing ${EVENTS.toLocaleString()} raw events for ingest and for the pass-through baseline`);
  const events = rawEvents(EVENTS);
  for (const topic of ['bench.requests.raw', 'bench.passthrough.in']) {
    await createTopics(stack.brokers, [{ name: topic, partitions: PARTITIONS, cleanupPolicy: 'delete' }]);
    await produceRecords(stack.brokers, topic, events);
  }
  const common = {
    brokers: stack.brokers,
    registryUrl: stack.registryUrl,
    topicPrefix: 'bench.',
    records: events.length,
    workDir,
  };
  say('pass-through (baseline: same records, same client settings and transactions)');
  const passthrough = await measureProcessor({
    ...common,
    name: 'passthrough',
    inputTopic: 'passthrough.in',
  });
  Object.assign(figures, await benchKafkaStreamsPassthrough({ ...common, passthrough, say }));
  say('ingest');
  const ingest = await measureProcessor({ ...common, name: 'ingest', inputTopic: 'requests.raw' });
  await benchEnrichAgainst(passthrough.eventsPerS, stack, workDir, figures);
  figures['passthrough_events_per_s'] = passthrough.eventsPerS;
  figures['ingest_events_per_s'] = ingest.eventsPerS;
  figures['ingest_ratio'] = ingest.eventsPerS / passthrough.eventsPerS;
  figures['ingest_rss_steady_mb'] = ingest.rssSteadyMb;
  figures['ingest_rss_max_mb'] = ingest.rssMaxMb;
  figures['ingest_cpu_us_per_event'] = ingest.cpuUsPerEvent;
  figures['passthrough_rss_steady_mb'] = passthrough.rssSteadyMb;
  figures['passthrough_cpu_us_per_event'] = passthrough.cpuUsPerEvent;
  Object.assign(figures, await benchAggregate({ ...common, passthrough, partitions: PARTITIONS, say }));
  say('ClickHouse sink against a direct bulk insert of the same rows');
  Object.assign(
    figures,
    await benchSink({ brokers: stack.brokers, registryUrl: stack.registryUrl, workDir }),
  );
  say('reference table: 1,000,000 customers through the broker into a table');
  Object.assign(
    figures,
    await benchTable({ brokers: stack.brokers, registryUrl: stack.registryUrl, progress: say }),
  );
  say('end to end: load generator → ingest → enrich → aggregate → alert, and the ClickHouse sink');
  Object.assign(figures, await benchEndToEnd({ ...stack, workDir, say }));
}

/** The pass-through and the aggregate, each against its Kafka Streams peer (BENCH_ONLY=peers). */
async function benchPeers(
  stack: { brokers: string; registryUrl: string },
  workDir: string,
  figures: Record<string, number>,
): Promise<void> {
  const topic = 'bench.passthrough.in';
  await createTopics(stack.brokers, [{ name: topic, partitions: PARTITIONS, cleanupPolicy: 'delete' }]);
  const events = rawEvents(EVENTS);
  await produceRecords(stack.brokers, topic, events);
  const common = { ...stack, topicPrefix: 'bench.', records: events.length, workDir };
  say('pass-through (baseline)');
  const passthrough = await measureProcessor({
    ...common,
    name: 'passthrough',
    inputTopic: 'passthrough.in',
  });
  figures['passthrough_events_per_s'] = passthrough.eventsPerS;
  figures['passthrough_rss_steady_mb'] = passthrough.rssSteadyMb;
  figures['passthrough_cpu_us_per_event'] = passthrough.cpuUsPerEvent;
  Object.assign(figures, await benchKafkaStreamsPassthrough({ ...common, passthrough, say }));
  Object.assign(figures, await benchAggregate({ ...common, passthrough, partitions: PARTITIONS, say }));
}

/** The aggregate's state restore after a SIGKILL (BENCH_ONLY=aggregate-restore, and in the full run). */
async function aggregateRestore(
  stack: { brokers: string; registryUrl: string },
  workDir: string,
  figures: Record<string, number>,
): Promise<void> {
  say('aggregate state restore: SIGKILLed mid-backlog with open windows, a new process restores them');
  Object.assign(figures, await benchAggregateRestore({ ...stack, workDir, partitions: PARTITIONS, say }));
}

/** The pass-through baseline and enrich alone (BENCH_ONLY=enrich). */
async function benchPassthroughAndEnrich(
  stack: { brokers: string; registryUrl: string },
  workDir: string,
  figures: Record<string, number>,
): Promise<void> {
  const topic = 'bench.passthrough.in';
  await createTopics(stack.brokers, [{ name: topic, partitions: PARTITIONS, cleanupPolicy: 'delete' }]);
  const events = rawEvents(EVENTS);
  await produceRecords(stack.brokers, topic, events);
  say('pass-through (baseline)');
  const passthrough = await measureProcessor({
    brokers: stack.brokers,
    registryUrl: stack.registryUrl,
    topicPrefix: 'bench.',
    records: events.length,
    workDir,
    name: 'passthrough',
    inputTopic: 'passthrough.in',
  });
  figures['passthrough_events_per_s'] = passthrough.eventsPerS;
  figures['passthrough_cpu_us_per_event'] = passthrough.cpuUsPerEvent;
  await benchEnrichAgainst(passthrough.eventsPerS, stack, workDir, figures);
}

async function benchEnrichAgainst(
  passthroughEventsPerS: number,
  stack: { brokers: string; registryUrl: string },
  workDir: string,
  figures: Record<string, number>,
): Promise<void> {
  say(`enrich: ${EVENTS.toLocaleString()} Avro events joined with ref.services and ref.customers`);
  const enrich = await benchEnrich({ ...stack, workDir, events: EVENTS, partitions: PARTITIONS });
  figures['enrich_events_per_s'] = enrich.eventsPerS;
  figures['enrich_ratio'] = enrich.eventsPerS / passthroughEventsPerS;
  figures['enrich_rss_steady_mb'] = enrich.rssSteadyMb;
  figures['enrich_cpu_us_per_event'] = enrich.cpuUsPerEvent;
}

await main();
