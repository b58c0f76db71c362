import { describe, expect, it } from 'vitest';
import { PendingBatch, dedupToken, splitInHalves } from './sink-batch.ts';

const row = (partition: number, offset: number) => ({ topic: 't', partition, offset, data: '' });
const limits = { maxBatchRows: 3, maxBatchBytes: 100, flushIntervalMs: 500 };

describe('sink batching', () => {
  it('is due by rows, bytes or age', () => {
    const batch = new PendingBatch<{ value: Buffer }>();
    batch.add([{ value: Buffer.alloc(10) }], 0);
    expect(batch.isDue(limits, 100)).toBe(false);
    expect(batch.isDue(limits, 500)).toBe(true);
    batch.add([{ value: Buffer.alloc(95) }], 100);
    expect(batch.isDue(limits, 100)).toBe(true);
    expect(batch.take()).toHaveLength(2);
    expect(batch.isDue(limits, 10_000)).toBe(false);
  });

  it('derives the same token for the same offsets and a different one for others', () => {
    const a = dedupToken('requests', [row(0, 5), row(0, 6), row(1, 9)]);
    expect(dedupToken('requests', [row(1, 9), row(0, 5), row(0, 6)])).toBe(a);
    expect(dedupToken('requests', [row(0, 5), row(0, 7), row(1, 9)])).not.toBe(a);
    expect(dedupToken('dead_letters', [row(0, 5), row(0, 6), row(1, 9)])).not.toBe(a);
  });

  it('splits rows in halves to isolate a rejected one', () => {
    expect(splitInHalves([1, 2, 3])).toEqual([[1, 2], [3]]);
  });
});
