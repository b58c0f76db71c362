import { describe, expect, it } from 'vitest';
import { describeTableProgress } from './reference-table.ts';

describe('describeTableProgress', () => {
  it('says how far a loading table is over all its partitions, and when it is loaded', () => {
    const partitions = [
      { partition: 0, position: 400_000, end: 500_000 },
      { partition: 1, position: 12_000, end: 500_000 },
    ];
    const loading = {
      table: 'customers',
      topic: 'ref.customers',
      state: 'loading' as const,
      records: 0,
      partitions,
    };
    expect(describeTableProgress(loading)).toBe('customers: loading 412,000 of 1,000,000 offsets (41%)');
    expect(describeTableProgress({ ...loading, state: 'following' })).toBe('customers: loaded');
    expect(describeTableProgress({ ...loading, state: 'failed' })).toBe('customers: failed');
  });
});
