import { describe, expect, it } from 'vitest';
import { runInMemory } from '../../runtime/testing/run-in-memory.ts';
import { passthrough } from './passthrough.ts';

describe('passthrough', () => {
  it('copies key, value and timestamp unchanged', async () => {
    const run = await runInMemory(passthrough, [
      { key: 'k1', value: 'v1', timestamp: 10 },
      { key: null, value: Buffer.from([0, 255]), timestamp: 20 },
    ]);
    const copied = run.outputs['copied'] ?? [];
    expect(copied.map((o) => [o.key, o.value.toString('hex'), o.timestamp])).toEqual([
      ['k1', Buffer.from('v1').toString('hex'), 10],
      [null, '00ff', 20],
    ]);
    expect(run.deadLetters).toEqual([]);
  });
});
