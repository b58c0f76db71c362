import { describe, expect, it } from 'vitest';
import { InlineBatchSource, WorkerBatchSource } from './batch-source.ts';
import type { BatchSource } from './batch-source.ts';
import { generatorOptionsSchema } from './options.ts';
import { FACT, FACT_STRIDE, KIND_BAD, KIND_DUPLICATE, KIND_ORIGINAL } from './record-batch.ts';
import type { RecordBatch } from './record-batch.ts';
import { FIXED_START_MS, generate } from './test-support.ts';

async function drain(source: BatchSource): Promise<RecordBatch[]> {
  const batches: RecordBatch[] = [];
  for (;;) {
    const batch = await source.next();
    batches.push(batch);
    if (batch.last) break;
  }
  await source.close();
  return batches;
}

function unpack(batches: readonly RecordBatch[]): Array<{ index: number; kind: number; value: Buffer }> {
  return batches.flatMap((batch) =>
    Array.from({ length: batch.size }, (_, row) => {
      const start = row === 0 ? 0 : (batch.ends[row - 1] ?? 0);
      return {
        index: batch.facts[row * FACT_STRIDE + FACT.index] ?? -1,
        kind: batch.facts[row * FACT_STRIDE + FACT.kind] ?? -1,
        value: Buffer.from(batch.values.subarray(start, batch.ends[row])),
      };
    }),
  );
}

describe('record batches', () => {
  const input = { seed: 13, count: 9000, startMs: FIXED_START_MS, rate: 10_000 };

  it('carry every delivery in order, with its bytes and facts', async () => {
    const { deliveries } = generate(input);
    const batches = await drain(new InlineBatchSource(generatorOptionsSchema.parse(input), 1000));
    expect(batches.map((b) => b.seq)).toEqual(batches.map((_, i) => i));
    const records = unpack(batches);
    expect(records.length).toBe(deliveries.length);
    records.forEach((record, i) => {
      const d = deliveries[i];
      expect(record.value.equals(d?.value ?? Buffer.alloc(0))).toBe(true);
      expect(record.index).toBe(d?.index);
      const kind = d?.kind === 'bad' ? KIND_BAD : d?.copy === 1 ? KIND_DUPLICATE : KIND_ORIGINAL;
      expect(record.kind).toBe(kind);
    });
  });

  it('come out of the worker thread byte for byte as out of this one', async () => {
    const options = generatorOptionsSchema.parse(input);
    const inline = unpack(await drain(new InlineBatchSource(options, 512)));
    const worker = unpack(await drain(new WorkerBatchSource(options, 512, 2)));
    expect(worker.length).toBe(inline.length);
    expect(Buffer.concat(worker.map((r) => r.value)).equals(Buffer.concat(inline.map((r) => r.value)))).toBe(
      true,
    );
  });
});
