// One load-generator run: make sure the raw topic exists, produce the generated deliveries at the asked
// rate, count what the broker acknowledged, and save the truth.
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { BulkProducer, ensureTopics, withAdmin } from '../runtime/kafka/index.ts';
import { buildFleet } from './fleet.ts';
import type { Fleet } from './fleet.ts';
import { EventGenerator } from './generator.ts';
import type { Delivery } from './generator.ts';
import type { GeneratorOptions } from './options.ts';
import type { ProgressOutput, RunSummary } from './progress.ts';
import { ProgressReporter } from './progress.ts';
import type { Truth } from './truth.ts';
import { TruthRecorder } from './truth.ts';
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
}

export interface LoadgenResult {
  runId: string;
  truthPath: string;
  truth: Truth;
  summary: RunSummary;
}

/** Most records produced between two turns of the event loop (delivery reports need those turns). */
const MAX_BURST = 2000;

export async function runLoadgen(options: LoadgenRunOptions): Promise<LoadgenResult> {
  const startedAt = new Date();
  const gen = options.generator;
  const runId = newRunId(gen.seed, startedAt);
  const topic = `${options.topicPrefix ?? ''}${RAW_TOPIC}`;
  const partitions = options.partitions ?? 6;
  const out = options.progress === false ? undefined : (options.progress ?? process.stderr);

  const drift = await withAdmin(options.brokers, (admin) =>
    ensureTopics(admin, [{ name: topic, partitions, cleanupPolicy: 'delete' }]),
  );
  for (const d of drift) out?.write(`note: ${d.topic} ${d.problem}; producing to it anyway\n`);

  const fleet: Fleet = buildFleet({
    seed: gen.seed,
    services: gen.services,
    customers: gen.customers,
    regions: gen.regions,
  });
  const generator = new EventGenerator(fleet, gen);
  const recorder = new TruthRecorder(fleet);
  const producer = new BulkProducer<Delivery>(
    { brokers: options.brokers, clientId: `tributary-loadgen-${runId}` },
    (error, delivery) => {
      if (error === undefined) recorder.onAcknowledged(delivery);
      else recorder.onFailed(delivery);
    },
  );
  await producer.connect();

  const t0 = performance.now();
  const reporter =
    out === undefined
      ? undefined
      : new ProgressReporter(
          gen.rate,
          () => ({
            elapsedMs: performance.now() - t0,
            events: generator.emitted,
            produced: producer.produced,
            acknowledged: producer.acknowledged,
            failed: producer.failed,
          }),
          out,
        );
  reporter?.start();
  let interrupted = false;
  try {
    interrupted = await produceAll(generator, producer, recorder, topic, t0, options.signal);
  } finally {
    try {
      await producer.close();
    } finally {
      reporter?.stop();
    }
  }
  const elapsedMs = performance.now() - t0;

  const truth = recorder.result(
    {
      run_id: runId,
      topic,
      partitions,
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      generator: describeGeneratorOptions(gen),
      event_time: { from_ms: gen.startMs, to_ms: generator.streamTimeMs(gen.count) },
    },
    generator.incidents,
  );
  const truthPath = await saveTruth(truth, options.runsDir ?? RUNS_DIR);
  const summary: RunSummary = {
    runId,
    topic,
    askedRate: gen.rate,
    achievedRate: generator.emitted / Math.max(elapsedMs / 1000, 1e-3),
    elapsedMs,
    events: generator.emitted,
    produced: truth.produced,
    acknowledged: truth.acknowledged,
    failed: truth.failed,
    interrupted,
  };
  return { runId, truthPath, truth, summary };
}

/** Produces every delivery, paced to the asked rate by wall clock. Returns true when interrupted. */
async function produceAll(
  generator: EventGenerator,
  producer: BulkProducer<Delivery>,
  recorder: TruthRecorder,
  topic: string,
  t0: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const { rate, count } = generator.options;
  const perMs = rate / 1000;
  for (;;) {
    if (signal?.aborted === true) return true;
    const elapsed = performance.now() - t0;
    const due = Math.min(count, Math.floor(elapsed * perMs) + 1);
    let burst = 0;
    while ((generator.emitted < due || generator.emitted >= count) && burst < MAX_BURST) {
      const delivery = generator.next();
      if (delivery === undefined) return false;
      if (!producer.tryProduce(topic, delivery.key, delivery.value, delivery)) {
        await producer.produce(topic, delivery.key, delivery.value, delivery);
      }
      recorder.onProduced(delivery);
      burst++;
    }
    if (generator.emitted < due || generator.emitted >= count) {
      await yieldToLoop(); // behind: let timers and delivery reports run, then carry on
    } else {
      const nextDueMs = generator.emitted / perMs - (performance.now() - t0);
      await sleep(Math.max(1, Math.ceil(nextDueMs)));
    }
  }
}
