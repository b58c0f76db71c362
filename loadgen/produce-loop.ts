// The load generator's produce loop: the generated batches handed to the producer at the asked rate, each
// delivery report counted into the truth.
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { BulkProducer } from '../runtime/kafka/index.ts';
import type { DeliveryListener } from '../runtime/kafka/index.ts';
import { InlineBatchSource, WorkerBatchSource } from './batch-source.ts';
import type { BatchSource } from './batch-source.ts';
import type { GeneratorOptions } from './options.ts';
import { FACT, FACT_STRIDE, KIND_DUPLICATE } from './record-batch.ts';
import type { RecordBatch } from './record-batch.ts';
import type { TruthRecorder } from './truth.ts';

/**
 * Most records produced between two turns of the event loop. The client hands over at most 100 delivery
 * reports per turn: produce more than that per turn and reports (so the truth) fall behind.
 */
const MAX_BURST = 64;
/** A record's producer opaque is `batch seq * OPAQUE_SPAN + row`: one number, no object to keep alive. */
const OPAQUE_SPAN = 1 << 16;

/** Batches whose delivery reports are still due, by batch seq. */
type InFlight = Map<number, { facts: Float64Array; pending: number }>;

export interface ProduceLoop {
  source: BatchSource;
  producer: BulkProducer<number>;
  recorder: TruthRecorder;
  inFlight: InFlight;
  topic: string;
  runTag: string;
  /** Original events produced so far (duplicate deliveries not counted). */
  events: number;
}

/** What the loop takes from the run's options (LoadgenRunOptions). */
export interface ProduceLoopOptions {
  brokers: string;
  generator: GeneratorOptions;
  generateIn?: 'worker' | 'this-thread';
}

/** The producer, its reports counted by `recorder`, and the batch source; nothing connected yet. */
export function createProduceLoop(
  options: ProduceLoopOptions,
  run: { runId: string; topic: string; runTag: string },
  recorder: TruthRecorder,
): ProduceLoop {
  const inFlight: InFlight = new Map();
  const producer = new BulkProducer<number>(
    { brokers: options.brokers, clientId: `tributary-loadgen-${run.runId}` },
    countDelivery(inFlight, recorder),
  );
  const source: BatchSource =
    options.generateIn === 'worker'
      ? new WorkerBatchSource(options.generator)
      : new InlineBatchSource(options.generator);
  return { source, producer, recorder, inFlight, topic: run.topic, runTag: run.runTag, events: 0 };
}

/** Counts each record's report as acknowledged or failed; a batch is forgotten with its last report. */
function countDelivery(inFlight: InFlight, recorder: TruthRecorder): DeliveryListener<number> {
  return (error, opaque) => {
    const seq = Math.floor(opaque / OPAQUE_SPAN);
    const batch = inFlight.get(seq);
    if (batch === undefined) return;
    const at = (opaque - seq * OPAQUE_SPAN) * FACT_STRIDE;
    if (error === undefined) recorder.countAcknowledged(batch.facts, at);
    else recorder.countFailed(batch.facts, at);
    if (--batch.pending === 0) inFlight.delete(seq);
  };
}

/** Produces every delivery, paced to the asked rate by wall clock. Returns true when interrupted. */
export async function produceAll(
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
