// Encoder + decoder over the in-memory registry: wire format, typed failures, evolution, caching.
import avro from 'avsc';
import { describe, expect, it, vi } from 'vitest';
import { SerdeError } from '../errors.ts';
import { InMemorySchemaRegistry } from '../testing/in-memory-schema-registry.ts';
import { AvroDecoder } from './avro-decoder.ts';
import { AvroEncoder } from './avro-encoder.ts';
import { loadSchemas, parseSchema } from './schema-loader.ts';
import type { LoadedSchema } from './schema-loader.ts';

interface Ping {
  id: string;
  count: number;
  note: string | null;
}

const pingFields = [
  { name: 'id', type: 'string' },
  { name: 'count', type: 'int' },
  { name: 'note', type: ['null', 'string'], default: null },
];

function record(name: string, fields: ReadonlyArray<Record<string, unknown>>): LoadedSchema {
  return parseSchema(
    JSON.stringify({ type: 'record', name, namespace: 'tributary', fields }),
    `${name} (test)`,
  );
}

async function setUp(schema: LoadedSchema = record('Ping', pingFields)) {
  const registry = new InMemorySchemaRegistry();
  const { id } = await registry.register('pings-value', schema.json);
  return {
    registry,
    id,
    encoder: new AvroEncoder<Ping>(id, schema.type),
    decoder: new AvroDecoder<Ping>(registry, schema.type),
  };
}

function serdeCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof SerdeError) return error.code;
    throw error;
  }
  throw new Error('expected a SerdeError');
}

describe('Avro in the Confluent wire format', () => {
  it('frames a value as magic byte 0, the big-endian schema id, then the Avro body, and reads it back', async () => {
    const { id, encoder, decoder } = await setUp();
    const value: Ping = { id: 'p-1', count: 42, note: 'hi' };
    const bytes = encoder.encode(value);
    expect(bytes[0]).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(id);
    expect(bytes.subarray(5)).toEqual(encoder.type.toBuffer(value));
    expect({ ...(await decoder.decodeAsync(bytes)) }).toEqual(value);
  });

  it('round-trips the repository schemas, timestamps as epoch-ms numbers', async () => {
    const schema = loadSchemas().get('RequestEvent');
    if (schema === undefined) throw new Error('schemas/request-event.avsc is missing');
    const registry = new InMemorySchemaRegistry();
    const { id } = await registry.register('requests.valid-value', schema.json);
    const event = {
      event_id: 'e-1',
      ts: 1_767_225_600_123,
      service: 'checkout',
      endpoint: '/api/orders/{id}',
      method: 'GET',
      status: 200,
      latency_ms: 12.5,
      bytes_out: 5_000_000_000,
      customer_id: 'c-9',
      region: 'eu-west-1',
      ingested_at: 1_767_225_600_456,
    };
    const bytes = new AvroEncoder<typeof event>(id, schema.type).encode(event);
    expect({ ...(await new AvroDecoder<typeof event>(registry, schema.type).decodeAsync(bytes)) }).toEqual(
      event,
    );
  });

  it('gives each kind of bad bytes its own SerdeError code, with context', async () => {
    const { encoder, decoder } = await setUp();
    const good = encoder.encode({ id: 'p-1', count: 1, note: null });
    await decoder.prepare([good]);
    expect(serdeCode(() => decoder.decode(Buffer.alloc(0)))).toBe('TRIBUTARY_SERDE_BAD_MAGIC');
    expect(serdeCode(() => decoder.decode(Buffer.from('{"json": true}')))).toBe('TRIBUTARY_SERDE_BAD_MAGIC');
    expect(serdeCode(() => decoder.decode(good.subarray(0, 3)))).toBe('TRIBUTARY_SERDE_TRUNCATED');
    expect(serdeCode(() => decoder.decode(good.subarray(0, good.length - 1)))).toBe(
      'TRIBUTARY_SERDE_TRUNCATED',
    );
    expect(serdeCode(() => decoder.decode(Buffer.concat([good, Buffer.from([7, 7])])))).toBe(
      'TRIBUTARY_SERDE_TRAILING_BYTES',
    );
    const badUnion = Buffer.concat([good.subarray(0, good.length - 1), Buffer.from([0x08])]); // union branch 4
    expect(serdeCode(() => decoder.decode(badUnion))).toBe('TRIBUTARY_SERDE_MALFORMED');
    const unknown = Buffer.from(good);
    unknown.writeUInt32BE(999, 1);
    await decoder.prepare([unknown]);
    expect(serdeCode(() => decoder.decode(unknown))).toBe('TRIBUTARY_SERDE_UNKNOWN_SCHEMA_ID');
    try {
      decoder.decode(Buffer.concat([good, Buffer.from([1])]));
    } catch (error) {
      expect((error as SerdeError).context).toMatchObject({
        schemaId: good.readUInt32BE(1),
        length: good.length + 1,
      });
    }
  });

  it('reads a value from an old writer without a defaulted field, filling the default', async () => {
    const registry = new InMemorySchemaRegistry();
    const v1 = record('Ping', [
      { name: 'id', type: 'string' },
      { name: 'count', type: 'int' },
    ]);
    const v2 = record('Ping', pingFields);
    const { id: oldId } = await registry.register('pings-value', v1.json);
    const old = new AvroEncoder<Omit<Ping, 'note'>>(oldId, v1.type).encode({ id: 'p-1', count: 3 });
    const decoded = await new AvroDecoder<Ping>(registry, v2.type).decodeAsync(old);
    expect({ ...decoded }).toEqual({ id: 'p-1', count: 3, note: null });
  });

  it('refuses a writer schema the reader cannot read with INCOMPATIBLE_WRITER', async () => {
    const registry = new InMemorySchemaRegistry();
    const other = record('Ping', [{ name: 'id', type: 'long' }]);
    const { id } = await registry.register('elsewhere-value', other.json);
    const bytes = new AvroEncoder<{ id: number }>(id, other.type).encode({ id: 5 });
    const decoder = new AvroDecoder<Ping>(registry, record('Ping', pingFields).type);
    await decoder.prepare([bytes]);
    expect(serdeCode(() => decoder.decode(bytes))).toBe('TRIBUTARY_SERDE_INCOMPATIBLE_WRITER');
  });

  it('fetches a writer schema once and builds its resolver once for 10,000 records', async () => {
    const registry = new InMemorySchemaRegistry();
    const v1 = record('Ping', [
      { name: 'id', type: 'string' },
      { name: 'count', type: 'int' },
    ]);
    const v2 = record('Ping', pingFields);
    const { id } = await registry.register('pings-value', v1.json);
    const encoder = new AvroEncoder<Omit<Ping, 'note'>>(id, v1.type);
    const batch = Array.from({ length: 10_000 }, (_, i) => encoder.encode({ id: `p-${i}`, count: i }));
    const resolverBuilds = vi.spyOn(avro.Type.prototype, 'createResolver');
    const decoder = new AvroDecoder<Ping>(registry, v2.type);
    await Promise.all([decoder.prepare(batch.slice(0, 5000)), decoder.prepare(batch.slice(5000))]);
    let sum = 0;
    for (const bytes of batch) sum += decoder.decode(bytes).count;
    await decoder.prepare(batch);
    expect(sum).toBe((9_999 * 10_000) / 2);
    expect(registry.callCount('getSchemaById')).toBe(1);
    // avsc recurses into field types; count the top-level builds (reader = v2).
    expect(resolverBuilds.mock.contexts.filter((reader) => reader === v2.type)).toHaveLength(1);
    resolverBuilds.mockRestore();
  });

  it('remembers an unknown id as unknown, asking the registry again only after unknownIdRetryMs', async () => {
    const registry = new InMemorySchemaRegistry();
    let now = 0;
    const decoder = new AvroDecoder<Ping>(registry, record('Ping', pingFields).type, {
      unknownIdRetryMs: 1000,
      now: () => now,
    });
    const bytes = Buffer.from([0, 0, 0, 0, 42, 2, 0x61, 0, 0]);
    await decoder.prepare([bytes, bytes]);
    await decoder.prepare([bytes]);
    expect(registry.callCount('getSchemaById')).toBe(1);
    now = 1000;
    await decoder.prepare([bytes]);
    expect(registry.callCount('getSchemaById')).toBe(2);
  });

  it('throws a retryable error from prepare when the registry is unavailable, and recovers', async () => {
    const { registry, encoder, decoder } = await setUp();
    const bytes = encoder.encode({ id: 'p', count: 0, note: null });
    registry.unavailable = true;
    await expect(decoder.prepare([bytes])).rejects.toMatchObject({
      code: 'TRIBUTARY_REGISTRY_UNAVAILABLE',
      retryable: true,
    });
    registry.unavailable = false;
    await decoder.prepare([bytes, null]);
    expect(decoder.decode(bytes).id).toBe('p');
  });

  it('decodes with the writer schema itself when built by forWriterSchema', async () => {
    const { registry, encoder } = await setUp();
    const bytes = encoder.encode({ id: 'w', count: 7, note: 'n' });
    expect({ ...(await AvroDecoder.forWriterSchema<Ping>(registry).decodeAsync(bytes)) }).toEqual({
      id: 'w',
      count: 7,
      note: 'n',
    });
  });

  it('names the wrong fields when a value does not match the schema', async () => {
    const { encoder } = await setUp();
    const bad = { id: 'p', count: '200', note: 5 } as unknown as Ping;
    let error: unknown;
    try {
      encoder.encode(bad);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SerdeError);
    expect(error).toMatchObject({
      code: 'TRIBUTARY_SERDE_ENCODE_FAILED',
      context: { paths: ['count', 'note'] },
    });
    expect((error as SerdeError).message).toContain(`field "count" is not a valid int (got '200')`);
    expect((error as SerdeError).message).toContain('field "note" is not a valid null | string (got 5)');
  });

  it('encodes values larger than its scratch buffer', async () => {
    const { encoder, decoder } = await setUp();
    const value: Ping = { id: 'x'.repeat(100_000), count: 1, note: 'y'.repeat(5000) };
    expect({ ...(await decoder.decodeAsync(encoder.encode(value))) }).toEqual(value);
    expect(encoder.encode({ id: 'small', count: 2, note: null }).length).toBeLessThan(20);
  });
});
