import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '../../errors.ts';
import { runInMemory } from '../../testing/run-in-memory.ts';
import { avro, bytes, defineProcessor } from './definition.ts';
import { loadProcessorConfig } from './run-processor.ts';
import { buildCodecs } from './codecs.ts';
import { changelogTopicFor, topicResolver } from './processor-topics.ts';
import { deadLetterMessage } from './batch.ts';
import { InMemorySchemaRegistry } from '../../testing/in-memory-schema-registry.ts';
import { AvroDecoder } from '../../serde/index.ts';
import { createLogger } from '../../observability/index.ts';
import type { DeadLetterValue } from './batch.ts';

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

  it('dead-letters a record whose output would exceed the message limit, instead of failing every retry', async () => {
    const run = await runInMemory(shouter, [{ key: 'big', value: 'a'.repeat(20_000) }, { value: 'ok' }], {
      config: { maxMessageBytes: 10_000 },
    });
    expect(run.outputs['loud']?.map((o) => o.key)).toEqual(['ok']);
    expect(run.deadLetters).toHaveLength(1);
    expect(run.deadLetters[0]?.reason).toBe('output_too_large');
    expect(run.deadLetters[0]?.detail).toMatch(/output "loud" would be \d+ bytes, over the 10000-byte/);
  });
});

// Regression (issue 9, finding 10): a dead letter carries the original bytes, so the letter of a record
// near the size limit was over it, and librdkafka's MSG_SIZE_TOO_LARGE made the batch retry forever.
describe('deadLetterMessage of a record near the message size limit', () => {
  async function letterFor(originalBytes: number, maxMessageBytes: number) {
    const config = loadProcessorConfig(shouter, { env: {}, overrides: { maxMessageBytes } });
    const registry = new InMemorySchemaRegistry();
    const topicFor = topicResolver(shouter, '');
    const log = createLogger({ name: 'test', level: 'silent', pretty: false });
    const topics = { topicFor, changelogTopicFor: changelogTopicFor(shouter, '') };
    const { codecs } = await buildCodecs(shouter, registry, topics, log);
    const original = Buffer.alloc(originalBytes, 'x');
    const raw = {
      topic: 'in',
      partition: 0,
      offset: 9,
      key: Buffer.from('k1'),
      value: original,
      timestamp: 0,
    };
    const env = { codecs, topicFor, now: () => 1, config };
    const message = deadLetterMessage('shouter', raw, { reason: 'oversized', detail: 'too big' }, env);
    const letter = await AvroDecoder.forWriterSchema<DeadLetterValue>(registry).decodeAsync(
      message.value ?? Buffer.alloc(0),
    );
    return { message, letter, original };
  }

  it('keeps the first bytes of an original too big to carry whole, fits the limit and says it truncated', async () => {
    const { message, letter, original } = await letterFor(1_040_000, 1_000_000);
    expect((message.key?.length ?? 0) + (message.value?.length ?? 0)).toBeLessThanOrEqual(1_000_000 - 512);
    expect(letter.detail).toBe(
      'original_value truncated from 1040000 bytes to fit the 1000000-byte message limit; too big',
    );
    const kept = letter.original_value ?? Buffer.alloc(0);
    expect(kept.length).toBeGreaterThan(990_000);
    expect(original.subarray(0, kept.length).equals(kept)).toBe(true);
    expect(letter).toMatchObject({ reason: 'oversized', source_offset: 9 });
  });

  it('carries an original that fits whole untouched', async () => {
    const { letter } = await letterFor(5000, 1_000_000);
    expect(letter.detail).toBe('too big');
    expect(letter.original_value?.length).toBe(5000);
  });
});
