import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '../errors.ts';
import { runInMemory } from '../testing/run-in-memory.ts';
import { avro, bytes, defineProcessor } from './definition.ts';

// A tiny processor exercising every path of the batch code: emit, reject, count, config.
const shouter = defineProcessor({
  name: 'shouter',
  description: 'test processor',
  input: { topic: 'in', value: bytes() },
  outputs: { loud: { topic: 'out', value: avro('RequestEvent') } },
  deadLetter: { topic: 'in.dlq' },
  outcomes: { dropped: ['skip'] },
  config: { prefix: z.string().default('svc-') },
  handle(record, ctx) {
    const text = record.value.toString();
    if (text === '') throw new ValidationError('empty', 'the value is empty');
    if (text === 'skip') return ctx.count('dropped', 'skip');
    if (text === 'boom') throw new Error('a bug in the handler');
    ctx.emit('loud', text, {
      event_id: text,
      ts: 1,
      service: ctx.config.prefix + text.toUpperCase(),
      endpoint: '/',
      method: 'GET',
      status: 200,
      latency_ms: 1.5,
      bytes_out: 2,
      customer_id: 'c',
      region: 'r',
      ingested_at: 3,
    });
  },
});

describe('processBatch through the in-memory harness', () => {
  it('emits Avro outputs, dead-letters rejections with their source, and counts outcomes', async () => {
    const run = await runInMemory(
      shouter,
      [
        { key: 'a', value: 'hi' },
        { key: 'b', value: '' },
        { value: 'skip' },
        { key: 'c', value: 'yo', partition: 2 },
      ],
      {
        config: { prefix: 'x-' },
        now: () => 42,
      },
    );
    expect(run.outputs['loud']?.map((o) => [o.key, o.value.service])).toEqual([
      ['hi', 'x-HI'],
      ['yo', 'x-YO'],
    ]);
    expect(run.deadLetters).toHaveLength(1);
    expect(run.deadLetters[0]).toMatchObject({
      reason: 'empty',
      detail: 'the value is empty',
      source_topic: 'in',
      source_partition: 0,
      source_offset: 1,
      processor: 'shouter',
      failed_at: 42,
    });
    expect(run.deadLetters[0]?.original_key?.toString()).toBe('b');
    expect(run.counted.get('dropped:skip')).toBe(1);
  });

  it('lets an unexpected handler error escape: the runtime aborts rather than dead-lettering a bug', async () => {
    await expect(runInMemory(shouter, [{ value: 'boom' }])).rejects.toThrow('a bug in the handler');
  });

  it('rejects config that does not fit the schema', async () => {
    await expect(runInMemory(shouter, [], { config: { prefix: 7 } })).rejects.toThrow('TRIBUTARY_PREFIX');
  });
});
