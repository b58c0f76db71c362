// `npx tsx bench/loadgen-bench.ts`: the load generator alone (issue 16 asks >= 100,000 events/s), on a
// stack of its own on free ports: generating only (batches packed, nothing produced), then the whole
// run to a real broker with the truth counted from delivery reports, in this thread and in a worker.
// Each is given in events per wall-clock second and per CPU second of this process (all its threads,
// librdkafka's included): on a shared machine the second says what a free core would do.
// LOADGEN_BENCH_EVENTS sets the events per run (default 500,000).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePorts, startStack, stopStack } from '../infra/stack/stack.ts';
import { InlineBatchSource, generatorOptionsSchema, runLoadgen } from '../loadgen/index.ts';
import type { GeneratorOptions } from '../loadgen/index.ts';

const EVENTS = Number(process.env['LOADGEN_BENCH_EVENTS'] ?? 500_000);

function say(line: string): void {
  process.stderr.write(`▶ ${line}\n`);
}

function options(seed: number): GeneratorOptions {
  // The default mix (bad, duplicate, late events), an incident, compressed time: what tests and demo ask.
  return generatorOptionsSchema.parse({
    seed,
    count: EVENTS,
    rate: 10_000_000,
    timeScale: 60,
    startMs: Date.now(),
  });
}

/** Events per wall-clock second and per CPU second of `run`, which returns how many events it made. */
async function measure(run: () => Promise<number>): Promise<{ wall: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const events = await run();
  const cpu = process.cpuUsage(cpu0);
  return { wall: events / ((performance.now() - t0) / 1000), cpu: events / ((cpu.user + cpu.system) / 1e6) };
}

/** Packs every batch in this thread, with nothing produced. */
async function generateOnly(): Promise<number> {
  const source = new InlineBatchSource(options(5));
  let events = 0;
  for (;;) {
    const batch = await source.next();
    events += batch.size;
    if (batch.last) return events;
  }
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'tributary-loadgen-bench-'));
  const figures: Record<string, number> = {};
  say(`generating ${EVENTS.toLocaleString()} events without a broker`);
  const generated = await measure(generateOnly);
  figures['loadgen_generate_only_events_per_s'] = generated.wall;
  figures['loadgen_generate_only_events_per_cpu_s'] = generated.cpu;
  const [kafkaPort = 0, controllerPort = 0, registryPort = 0] = await findFreePorts(3);
  const stack = await startStack({
    dataDir: join(workDir, 'stack'),
    kafkaPort,
    controllerPort,
    registryPort,
  });
  try {
    for (const generateIn of ['this-thread', 'worker'] as const) {
      say(`producing ${EVENTS.toLocaleString()} events as fast as possible, generated in ${generateIn}`);
      const run = await measure(async () => {
        const result = await runLoadgen({
          brokers: stack.brokers,
          topicPrefix: `bench-loadgen-${generateIn}.`,
          partitions: 6,
          generator: options(6),
          runsDir: join(workDir, 'runs'),
          progress: false,
          generateIn,
        });
        return result.summary.events;
      });
      const name = generateIn.replace('-', '_');
      figures[`loadgen_events_per_s_${name}`] = run.wall;
      figures[`loadgen_events_per_cpu_s_${name}`] = run.cpu;
    }
  } finally {
    await stopStack(join(workDir, 'stack'));
    rmSync(workDir, { recursive: true, force: true });
  }
  for (const [key, value] of Object.entries(figures)) console.log(`${key} ${Math.round(value)}`);
}

await main();
