// `npm run bench`: throughput and memory figures against a real local stack started for the run.
// Prints a table and writes bench/results/latest.json (one key per figure) so runs can be compared.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { textTable } from '../runtime/observability/terminal.ts';
import { findFreePorts, startStack, stopStack } from '../infra/stack/stack.ts';
import { EventGenerator, buildFleet, generatorOptionsSchema, runLoadgen } from '../loadgen/index.ts';
import { createTopics, produceRecords } from '../runtime/testing/kafka-test-kit.ts';
import type { TestRecord } from '../runtime/testing/kafka-test-kit.ts';
import { measureProcessor } from './processor-throughput.ts';
import { benchSink } from './sink-bench.ts';
import { benchEndToEnd } from './e2e-bench.ts';
import { benchRestore } from './restore-bench.ts';
import { benchTable } from './table-bench.ts';
import { benchEnrich } from './enrich-bench.ts';

const RESULTS = fileURLToPath(new URL('./results/latest.json', import.meta.url));
const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 300_000);
const PARTITIONS = 6;
/**
 * `restore` runs only the state-restore benchmark (a few minutes instead of the whole suite); `enrich` only
 * the pass-through and enrich.
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
    } else {
      if (ONLY !== 'restore') await benchProcessing(stack, workDir, figures);
      say('state restore: ingest dedup store, history hours long, against its live state');
      Object.assign(figures, await benchRestore({ brokers: stack.brokers, say }));
    }
  } finally {
    await stopStack(join(workDir, 'stack'));
    rmSync(workDir, { recursive: true, force: true });
  }
  printTable(figures);
  mkdirSync(join(RESULTS, '..'), { recursive: true });
  writeFileSync(
    RESULTS,
    `${JSON.stringify({ measured_at: new Date().toISOString(), events: EVENTS, ...figures }, null, 2)}\n`,
  );
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
  say('ingest');
  const ingest = await measureProcessor({ ...common, name: 'ingest', inputTopic: 'requests.raw' });
  await benchEnrichAgainst(passthrough.eventsPerS, stack, workDir, figures);
  figures['passthrough_events_per_s'] = passthrough.eventsPerS;
  figures['ingest_events_per_s'] = ingest.eventsPerS;
  figures['ingest_ratio'] = ingest.eventsPerS / passthrough.eventsPerS;
  figures['ingest_rss_steady_mb'] = ingest.rssSteadyMb;
  figures['ingest_rss_max_mb'] = ingest.rssMaxMb;
  figures['passthrough_rss_steady_mb'] = passthrough.rssSteadyMb;
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
  say('end to end: load generator → ingest ×2 → ClickHouse sink');
  Object.assign(
    figures,
    await benchEndToEnd({ brokers: stack.brokers, registryUrl: stack.registryUrl, workDir }),
  );
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
}

function printTable(figures: Record<string, number>): void {
  const goals: Record<string, string> = {
    loadgen_events_per_s: '≥ 100,000',
    ingest_ratio: '≥ 0.60 of pass-through',
    enrich_ratio: '≥ 0.80 of pass-through',
    ingest_rss_steady_mb: '< 250 MB',
    sink_ratio: '≥ 0.80 of direct insert',
    queryable_latency_p99_ms: '< 2,000 ms',
    e2e_events_per_s: '≥ 20,000',
    restore_read_mb: '≤ 2 × restore_state_mb',
    restore_seconds: '≪ max.poll.interval.ms (300 s)',
  };
  const table = textTable({ head: ['figure', 'value', 'goal'] });
  for (const [key, value] of Object.entries(figures)) {
    const shown =
      key.endsWith('_ratio') || key.endsWith('_seconds')
        ? value.toFixed(2)
        : Math.round(value).toLocaleString();
    table.push([key, shown, goals[key] ?? '']);
  }
  console.log(table.toString());
}

await main();
