// One load-generator run: make sure the raw topic exists, produce the generated deliveries at the asked
// rate, count what the broker acknowledged, and save the truth.
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { BulkProducer, ensureTopics, withAdmin } from '../runtime/kafka/index.ts';
import { reachKafka } from './reach-kafka.ts';
import { InlineBatchSource, WorkerBatchSource } from './batch-source.ts';
import type { BatchSource } from './batch-source.ts';
import { buildFleet } from './fleet.ts';
import { EventGenerator } from './generator.ts';
import type { GeneratorOptions } from './options.ts';
import type { ProgressOutput, RunSummary } from './progress.ts';
import { ProgressReporter } from './progress.ts';
import { FACT, FACT_STRIDE, KIND_DUPLICATE } from './record-batch.ts';
import type { RecordBatch } from './record-batch.ts';
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

/**
 * Most records produced between two turns of the event loop. The client hands over at most 100 delivery
 * reports per turn: produce more than that per turn and reports (so the truth) fall behind.
 */
const MAX_BURST = 64;
/** A record's producer opaque is `batch seq * OPAQUE_SPAN + row`: one number, no object to keep alive. */
const OPAQUE_SPAN = 1 << 16;

export async function runLoadgen(options: LoadgenRunOptions): Promise<LoadgenResult> {
  const startedAt = new Date();
  const gen = options.generator;
  const runId = newRunId(gen.seed, startedAt);
  const topic = `${options.topicPrefix ?? ''}${RAW_TOPIC}`;
  const partitions = options.partitions ?? 6;
  const out = options.progress === false ? undefined : (options.progress ?? process.stderr);

  const drift = await reachKafka(options.brokers, `check ${topic}`, () =>
    withAdmin(options.brokers, (admin) =>
      ensureTopics(admin, [{ name: topic, partitions, cleanupPolicy: 'delete' }]),
    ),
  );
  for (const d of drift) out?.write(`note: ${d.topic} ${d.problem}; producing to it anyway\n`);

  const fleet = buildFleet({
    seed: gen.seed,
    services: gen.services,
    customers: gen.customers,
    regions: gen.regions,
  });
  // Only for the run's tag, incidents and event-time span: the events come from the batch source.
  const plan = new EventGenerator(fleet, gen);
  const recorder = new TruthRecorder(fleet, plan.runTag, referenceTimeline(fleet, gen));
  const inFlight = new Map<number, { facts: Float64Array; pending: number }>();
  const producer = new BulkProducer<number>(
    { brokers: options.brokers, clientId: `tributary-loadgen-${runId}` },
    (error, opaque) => {
      const seq = Math.floor(opaque / OPAQUE_SPAN);
      const batch = inFlight.get(seq);
      if (batch === undefined) return;
      const at = (opaque - seq * OPAQUE_SPAN) * FACT_STRIDE;
      if (error === undefined) recorder.countAcknowledged(batch.facts, at);
      else recorder.countFailed(batch.facts, at);
      if (--batch.pending === 0) inFlight.delete(seq);
    },
  );
  const source: BatchSource =
    options.generateIn === 'worker' ? new WorkerBatchSource(gen) : new InlineBatchSource(gen);
  const loop: ProduceLoop = { source, producer, recorder, inFlight, topic, runTag: plan.runTag, events: 0 };

  let t0 = performance.now();
  let producedAt = t0;
  const reporter =
    out === undefined
      ? undefined
      : new ProgressReporter(
          gen.rate,
          () => ({
            elapsedMs: performance.now() - t0,
            events: loop.events,
            produced: producer.produced,
            acknowledged: producer.acknowledged,
            failed: producer.failed,
          }),
          out,
        );
  let interrupted = false;
  try {
    await producer.connect();
    t0 = performance.now(); // pacing and rates count from the first record, not from connecting
    reporter?.start();
    interrupted = await produceAll(loop, gen, t0, options.signal);
    producedAt = performance.now();
  } finally {
    try {
      await source.close();
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
      event_time: { from_ms: gen.startMs, to_ms: plan.streamTimeMs(gen.count) },
    },
    plan.incidents,
  );
  const truthPath = await saveTruth(truth, options.runsDir ?? RUNS_DIR);
  const summary: RunSummary = {
    runId,
    topic,
    askedRate: gen.rate,
    // Over the producing window: in-flight records are bounded, so it cannot run ahead of acknowledgements.
    achievedRate: loop.events / Math.max((producedAt - t0) / 1000, 1e-3),
    elapsedMs,
    events: loop.events,
    produced: truth.produced,
    acknowledged: truth.acknowledged,
    failed: truth.failed,
    interrupted,
  };
  return { runId, truthPath, truth, summary };
}

interface ProduceLoop {
  source: BatchSource;
  producer: BulkProducer<number>;
  recorder: TruthRecorder;
  inFlight: Map<number, { facts: Float64Array; pending: number }>;
  topic: string;
  runTag: string;
  /** Original events produced so far (duplicate deliveries not counted). */
  events: number;
}

/** Produces every delivery, paced to the asked rate by wall clock. Returns true when interrupted. */
async function produceAll(
  loop: ProduceLoop,
  gen: GeneratorOptions,
  t0: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const { producer, recorder, topic, runTag } = loop;
  const perMs = gen.rate / 1000;
  let batch: RecordBatch = await loop.source.next();
  loop.inFlight.set(batch.seq, { facts: batch.facts, pending: batch.size });
  let row = 0;
  for (;;) {
    if (signal?.aborted === true) return true;
    const due = Math.min(gen.count, Math.floor((performance.now() - t0) * perMs) + 1);
    let burst = 0;
    while ((loop.events < due || loop.events >= gen.count) && burst < MAX_BURST) {
      if (row === batch.size) {
        if (batch.last) return false;
        batch = await loop.source.next();
        if (batch.size > 0) loop.inFlight.set(batch.seq, { facts: batch.facts, pending: batch.size });
        row = 0;
        continue;
      }
      const at = row * FACT_STRIDE;
      const start = row === 0 ? 0 : (batch.ends[row - 1] ?? 0);
      const value = Buffer.from(
        batch.values.buffer,
        batch.values.byteOffset + start,
        (batch.ends[row] ?? 0) - start,
      );
      const key = `${runTag}-${batch.facts[at + FACT.index] ?? 0}`;
      const opaque = batch.seq * OPAQUE_SPAN + row;
      if (!producer.tryProduce(topic, key, value, opaque)) await producer.produce(topic, key, value, opaque);
      recorder.countProduced(batch.facts, at);
      if (batch.facts[at + FACT.kind] !== KIND_DUPLICATE) loop.events++;
      row++;
      burst++;
    }
    if (loop.events < due || loop.events >= gen.count) {
      await yieldToLoop(); // behind: let timers and delivery reports run, then carry on
    } else {
      await sleep(Math.max(1, Math.ceil(loop.events / perMs - (performance.now() - t0))));
    }
  }
}
