// `tributary demo`: the pipeline end to end on the local stack, judged against the load generator's
// ground truth. Every step prints a line; the summary is a table; exit 1 when reconciliation fails.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Table from 'cli-table3';
import { stackDefaults } from '../../infra/stack/defaults.ts';
import { startStack, stopStack } from '../../infra/stack/stack.ts';
import { startProcessor } from '../../infra/pipeline/processor-process.ts';
import type { ProcessorProcess } from '../../infra/pipeline/processor-process.ts';
import {
  generatorOptionsSchema,
  loadReferenceData,
  reconcileIngestTopics,
  runLoadgen,
} from '../../loadgen/index.ts';
import { waitForGroupCaughtUp } from '../../runtime/kafka/index.ts';
import { HttpSchemaRegistry } from '../../runtime/serde/index.ts';
import type { Command } from '../command.ts';
import { numberOption, parseArgs } from '../command.ts';

const PARTITIONS = 6;

function step(text: string): void {
  console.log(`▶ ${text}`);
}

interface Pipeline {
  processes: Array<{ name: string; process: ProcessorProcess }>;
  stop(): Promise<Array<{ name: string; code: number | null }>>;
}

function startPipeline(env: Record<string, string>, logDir: string, ingestCopies: number): Pipeline {
  const processes = Array.from({ length: ingestCopies }, (_, i) => ({
    name: `ingest#${i}`,
    process: startProcessor(
      'ingest',
      { ...env, TRIBUTARY_INSTANCE_ID: String(i) },
      join(logDir, `ingest-${i}.log`),
    ),
  }));
  return {
    processes,
    async stop() {
      for (const p of processes) p.process.kill('SIGTERM');
      return Promise.all(processes.map(async (p) => ({ name: p.name, code: (await p.process.exited).code })));
    },
  };
}

export const demoCommand: Command = {
  name: 'demo',
  usage: 'demo [--duration 30] [--rate 5000] [--copies 2] [--keep-stack]',
  summary: 'run the pipeline end to end on a local stack and reconcile it with the ground truth',
  async run(args) {
    const { options } = parseArgs(args);
    const durationS = numberOption(options, 'duration', 30);
    const rate = numberOption(options, 'rate', 5000);
    const copies = numberOption(options, 'copies', 2);
    const keepStack = options.has('keep-stack');
    const started = Date.now();
    const defaults = stackDefaults();

    step(`starting the local stack (Kafka + schema registry, data in ${defaults.dataDir})`);
    const stack = await startStack({ ...defaults, onProgress: (line) => console.log(`  ${line}`) });
    const prefix = `demo-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}.`;
    const runDir = join(defaults.dataDir, '..', 'demo', prefix.slice(0, -1));
    mkdirSync(runDir, { recursive: true });
    const env = {
      TRIBUTARY_KAFKA_BROKERS: stack.brokers,
      TRIBUTARY_REGISTRY_URL: stack.registryUrl,
      TRIBUTARY_TOPIC_PREFIX: prefix,
      TRIBUTARY_DEFAULT_PARTITIONS: String(PARTITIONS),
      TRIBUTARY_STATE_DIR: join(runDir, 'state'),
    };
    let pipeline: Pipeline | undefined;
    try {
      step(`loading reference data into ${prefix}ref.services and ${prefix}ref.customers`);
      await loadReferenceData({
        brokers: stack.brokers,
        registry: new HttpSchemaRegistry(stack.registryUrl),
        topicPrefix: prefix,
        fleet: { seed: 1 },
      });
      step(`starting ${copies} ingest copies (logs in ${runDir})`);
      pipeline = startPipeline(env, runDir, copies);
      step(
        `generating ${durationS} s of traffic at ${rate} events/s (bad, duplicate, late events and an incident included)`,
      );
      const generator = generatorOptionsSchema.parse({
        seed: 1,
        rate,
        count: Math.round(rate * durationS),
        startMs: Date.now(),
      });
      const loadgen = await runLoadgen({
        brokers: stack.brokers,
        topicPrefix: prefix,
        partitions: PARTITIONS,
        generator,
      });
      step('waiting until ingest has consumed everything');
      await waitForGroupCaughtUp(stack.brokers, `${prefix}ingest`, `${prefix}requests.raw`);
      const caughtUpS = (Date.now() - started) / 1000;
      step('reconciling the topics with the ground truth');
      const result = await reconcileIngestTopics({
        brokers: stack.brokers,
        registryUrl: stack.registryUrl,
        topicPrefix: prefix,
        partitions: PARTITIONS,
        truth: loadgen.truth,
      });
      const exits = await pipeline.stop();
      pipeline = undefined;

      const table = new Table({ head: ['check', 'expected (truth)', 'actual (pipeline)', ''] });
      for (const c of result.checks)
        table.push([
          c.check,
          c.expected.toLocaleString(),
          c.actual.toLocaleString(),
          c.ok ? 'ok' : 'MISMATCH',
        ]);
      console.log(`\n${table.toString()}`);
      console.log(
        `run ${loadgen.runId}: ${loadgen.truth.acknowledged.deliveries.toLocaleString()} raw events; ground truth in ${loadgen.truthPath}`,
      );
      console.log(
        `processes stopped: ${exits.map((e) => `${e.name} exit ${e.code}`).join(', ')}; caught up after ${caughtUpS.toFixed(1)} s`,
      );
      console.log(`reconciliation: ${result.ok ? 'EXACT' : 'FAILED'}`);
      console.log(
        `\nInspect the topics (prefix ${prefix}) on ${stack.brokers}; the registry is at ${stack.registryUrl}.`,
      );
      return result.ok && exits.every((e) => e.code === 0) ? 0 : 1;
    } finally {
      if (pipeline !== undefined) await pipeline.stop();
      if (keepStack || stack.alreadyRunning) {
        console.log(`stack left running (${stack.brokers}); stop it with ./tributary stack down`);
      } else {
        step('stopping the local stack (keep it with --keep-stack)');
        await stopStack(defaults.dataDir);
      }
    }
  },
};
