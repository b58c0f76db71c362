// Decoding must never crash the process: whatever the bytes, the outcome is a value or a SerdeError.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SerdeError } from '../errors.ts';
import { InMemorySchemaRegistry } from '../testing/in-memory-schema-registry.ts';
import { AvroDecoder } from './avro-decoder.ts';
import { AvroEncoder } from './avro-encoder.ts';
import { loadSchemas } from './schema-loader.ts';
import type { LoadedSchema } from './schema-loader.ts';

const ITERATIONS = 3000;

function schemaNamed(name: string): LoadedSchema {
  const schema = loadSchemas().get(name);
  if (schema === undefined) throw new Error(`no schema ${name}`);
  return schema;
}

/** Small deterministic PRNG (mulberry32) so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function outcome(decoder: AvroDecoder<unknown>, bytes: Buffer): Promise<string> {
  try {
    await decoder.decodeAsync(bytes);
    return 'ok';
  } catch (error) {
    if (error instanceof SerdeError) return error.code;
    throw new Error(`non-SerdeError for bytes ${bytes.toString('hex')}: ${String(error)}`, { cause: error });
  }
}

describe.each(['RequestEvent', 'DeadLetter'])('decoding arbitrary bytes as %s', (name) => {
  it('fails only with SerdeErrors on random buffers, random truncations and random corruptions', async () => {
    const schema = schemaNamed(name);
    const registry = new InMemorySchemaRegistry();
    const { id } = await registry.register(`fuzz-${name}-value`, schema.json);
    const encoder = new AvroEncoder<unknown>(id, schema.type);
    const decoder = new AvroDecoder<unknown>(registry, schema.type);
    const random = prng(0x5eed + name.length);
    const codes = new Map<string, number>();
    const count = (code: string): void => void codes.set(code, (codes.get(code) ?? 0) + 1);

    for (let i = 0; i < ITERATIONS; i++) {
      const valid = encoder.encode(schema.type.random());
      // 1. random bytes, often with a valid header so that the Avro body is what gets fuzzed
      const noise = randomBytes(Math.floor(random() * 64));
      const framed = random() < 0.7 ? Buffer.concat([valid.subarray(0, 5), noise]) : noise;
      count(await outcome(decoder, framed));
      // 2. a valid encoding cut short
      count(await outcome(decoder, valid.subarray(0, Math.floor(random() * valid.length))));
      // 3. a valid encoding with a few bytes flipped (lengths, union branches, varints)
      const corrupt = Buffer.from(valid);
      for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--) {
        const at = 5 + Math.floor(random() * (corrupt.length - 5));
        corrupt[at] = Math.floor(random() * 256);
      }
      count(await outcome(decoder, corrupt));
    }
    expect(codes.get('TRIBUTARY_SERDE_TRUNCATED')).toBeGreaterThan(0);
    expect(codes.get('TRIBUTARY_SERDE_BAD_MAGIC')).toBeGreaterThan(0);
    expect(codes.get('TRIBUTARY_SERDE_TRAILING_BYTES')).toBeGreaterThan(0);
    expect(codes.get('ok')).toBeGreaterThan(0);
  });
});
