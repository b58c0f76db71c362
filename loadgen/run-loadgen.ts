// One load-generator run: make sure the raw topic exists, produce the generated deliveries at the asked
// rate, count what the broker acknowledged, and save the truth.
import { ensureTopics, withAdmin } from '../runtime/kafka/index.ts';
import { reachKafka } from './reach-kafka.ts';
import { buildFleet } from './fleet.ts';
import { EventGenerator } from './generator.ts';
import type { GeneratorOptions } from './options.ts';
import type { ProgressOutput, RunSummary } from './progress.ts';
import { ProgressReporter } from './progress.ts';
import { createProduceLoop, produceAll } from './produce-loop.ts';
import type { ProduceLoop } from './produce-loop.ts';
import type { Truth } from './truth.ts';
import { TruthRecorder } from './truth.ts';
import { referenceTimeline } from './reference-timeline.ts';
import { RUNS_DIR, describeGeneratorOptions, newRunId, saveTruth } from './truth-store.ts';

export const RAW_TOPIC = 'requests.raw';

export interface LoadgenRunOptions {
  brokers: string;
  /** Prepended to `requests.raw`. Default ''. */
  topicPrefix?: string;
  /** Partitions of the raw topic when it has to be created. Default 6. */
  partitions?: number;
  generator: GeneratorOptions;
  /** Default `<repo>/.tributary/runs`. */
  runsDir?: string;
  /** Where progress goes; false for none. Default stderr. */
  progress?: ProgressOutput | false;
  /** Stops producing early; the truth then covers what was produced. */
  signal?: AbortSignal;
  /**
   * Generate in this thread (default) or a worker thread. The worker gives up to ~10% more events/s when
   * a core is free, for ~20% more CPU in all: on a busy machine (the pipeline running too) it is slower.
   */
  generateIn?: 'worker' | 'this-thread';
}

export interface LoadgenResult {
  runId: string;
  truthPath: string;
  truth: Truth;
  summary: RunSummary;
}

export async function runLoadgen(options: LoadgenRunOptions): Promise<LoadgenResult> {
  const startedAt = new Date();
  const gen = options.generator;
  const runId = newRunId(gen.seed, startedAt);
  const topic = `${options.topicPrefix ?? ''}${RAW_TOPIC}`;
  const partitions = options.partitions ?? 6;
  const out = options.progress === false ? undefined : (options.progress ?? process.stderr);
  await ensureRawTopic(options.brokers, topic, partitions, out);

  const fleet = buildFleet({
    seed: gen.seed,
    services: gen.services,
    customers: gen.customers,
    regions: gen.regions,
  });
  // Only for the run's tag, incidents and event-time span: the events come from the batch source.
  const plan = new EventGenerator(fleet, gen);
  const recorder = new TruthRecorder(fleet, plan.runTag, referenceTimeline(fleet, gen));
  const loop = createProduceLoop(options, { runId, topic, runTag: plan.runTag }, recorder);
  const timing = await produceTimed(loop, gen, out, options.signal);

  const truth = recorder.result(
    {
      run_id: runId,
      topic,
      partitions,
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      generator: describeGeneratorOptions(gen),
      event_time: { from_ms: gen.startMs, to_ms: plan.streamTimeMs(gen.count) },
    },
    plan.incidents,
  );
  const truthPath = await saveTruth(truth, options.runsDir ?? RUNS_DIR);
  return { runId, truthPath, truth, summary: summarise(runId, gen.rate, loop, timing, truth) };
}

/** Creates the raw topic when it is missing; one that differs from the declaration is produced to anyway. */
async function ensureRawTopic(
  brokers: string,
  topic: string,
  partitions: number,
  out: ProgressOutput | undefined,
): Promise<void> {
  const drift = await reachKafka(brokers, `check ${topic}`, () =>
    withAdmin(brokers, (admin) =>
      ensureTopics(admin, [{ name: topic, partitions, cleanupPolicy: 'delete' }]),
    ),
  );
  for (const d of drift) out?.write(`note: ${d.topic} ${d.problem}; producing to it anyway\n`);
}

/** When producing ran, on the `performance.now()` clock. */
interface ProduceTiming {
  /** The first record produced. */
  t0: number;
  /** The last record handed to the producer (not yet acknowledged). */
  producedAt: number;
  /** From the first record until the producer and the source were closed. */
  elapsedMs: number;
  interrupted: boolean;
}

/** Connects and produces every delivery; the source and the producer are closed whatever happens. */
async function produceTimed(
  loop: ProduceLoop,
  gen: GeneratorOptions,
  out: ProgressOutput | undefined,
  signal: AbortSignal | undefined,
): Promise<ProduceTiming> {
  const { source, producer } = loop;
  let t0 = performance.now();
  let producedAt = t0;
  const reporter = out === undefined ? undefined : progressReporter(loop, gen.rate, () => t0, out);
  let interrupted = false;
  try {
    await producer.connect();
    t0 = performance.now(); // pacing and rates count from the first record, not from connecting
    reporter?.start();
    interrupted = await produceAll(loop, gen, t0, signal);
    producedAt = performance.now();
  } finally {
    try {
      await source.close();
      await producer.close();
    } finally {
      reporter?.stop();
    }
  }
  return { t0, producedAt, elapsedMs: performance.now() - t0, interrupted };
}

function progressReporter(
  loop: ProduceLoop,
  askedRate: number,
  t0: () => number,
  out: ProgressOutput,
): ProgressReporter {
  const { producer } = loop;
  return new ProgressReporter(
    askedRate,
    () => ({
      elapsedMs: performance.now() - t0(),
      events: loop.events,
      produced: producer.produced,
      acknowledged: producer.acknowledged,
      failed: producer.failed,
    }),
    out,
  );
}

function summarise(
  runId: string,
  askedRate: number,
  loop: ProduceLoop,
  timing: ProduceTiming,
  truth: Truth,
): RunSummary {
  return {
    runId,
    topic: loop.topic,
    askedRate,
    // Over the producing window: in-flight records are bounded, so it cannot run ahead of acknowledgements.
    achievedRate: loop.events / Math.max((timing.producedAt - timing.t0) / 1000, 1e-3),
    elapsedMs: timing.elapsedMs,
    events: loop.events,
    produced: truth.produced,
    acknowledged: truth.acknowledged,
    failed: truth.failed,
    interrupted: timing.interrupted,
  };
}
