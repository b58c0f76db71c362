import { describe, expect, it } from 'vitest';
import { positionsPastCommitted } from './marker-offsets.ts';

describe('positionsPastCommitted', () => {
  it('names the partitions read past their committed offset (a skipped commit marker), and only those', () => {
    const positions = new Map([
      ['p.requests.valid/0', 101],
      ['p.requests.valid/1', 50],
      ['p.requests.valid/2', 7],
    ]);
    const committed = new Map([
      ['p.requests.valid/0', 100],
      ['p.requests.valid/1', 50],
    ]);
    expect(positionsPastCommitted(positions, committed)).toEqual([
      { topic: 'p.requests.valid', partition: 0, offset: 101 },
      { topic: 'p.requests.valid', partition: 2, offset: 7 },
    ]);
  });
});
