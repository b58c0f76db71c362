// The serde against the real stack: the registry (Apicurio's Confluent API) and a Kafka broker.
// Every test uses its own subjects and topic (random names) and deletes them afterwards.
import { randomBytes } from 'node:crypto';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { SchemaIncompatibleError, SerdeError } from '../errors.ts';
import { describeSchemaRegistryContract, uniqueSubject } from '../testing/schema-registry-contract.ts';
import { AvroDecoder } from './avro-decoder.ts';
import { AvroEncoder } from './avro-encoder.ts';
import { HttpSchemaRegistry } from './http-schema-registry.ts';
import { registerSchemas } from './register-schemas.ts';
import { valueSubject } from './registry.ts';
import { loadSchemas, parseSchema } from './schema-loader.ts';
import type { LoadedSchema } from './schema-loader.ts';

/** Env first (run against any stack), else what the stack's globalSetup provides. */
function provided(envVar: string, key: string): string {
  const fromEnv = process.env[envVar];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const value = (inject as unknown as (name: string) => unknown)(key);
  if (Array.isArray(value)) return value.join(',');
  if (typeof value !== 'string')
    throw new Error(`set ${envVar} or provide "${key}" from the stack's globalSetup`);
  return value;
}

const registryUrl = provided('TRIBUTARY_TEST_REGISTRY_URL', 'registryUrl');
const brokers = provided('TRIBUTARY_TEST_BROKERS', 'brokers').split(',');
const registry = new HttpSchemaRegistry(registryUrl);
const createdSubjects: string[] = [];

afterAll(async () => {
  for (const subject of createdSubjects) await registry.deleteSubject(subject, { permanent: true });
});

function subject(label: string): string {
  const name = uniqueSubject(label);
  createdSubjects.push(name);
  return name;
}

function event(fields: ReadonlyArray<Record<string, unknown>>): LoadedSchema {
  return parseSchema(
    JSON.stringify({ type: 'record', name: 'Event', namespace: 'tributary', fields }),
    'event.avsc',
  );
}

const base = [
  { name: 'event_id', type: 'string' },
  { name: 'status', type: 'int' },
];

interface KafkaRecord {
  key: Buffer | null;
  value: Buffer | null;
}

/** Creates a one-partition topic, produces the records, consumes them back, deletes the topic. */
async function throughKafka(records: readonly KafkaRecord[]): Promise<KafkaRecord[]> {
  const topic = `t-serde-${randomBytes(4).toString('hex')}`;
  const kafka = new KafkaJS.Kafka({
    kafkaJS: { brokers, clientId: 'serde-test', logLevel: KafkaJS.logLevel.ERROR },
  });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  const consumer = kafka.consumer({ kafkaJS: { groupId: `${topic}-group`, fromBeginning: true } });
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
    await producer.connect();
    await producer.send({ topic, messages: records.map((r) => ({ key: r.key, value: r.value })) });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    const received: KafkaRecord[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`consumed ${received.length}/${records.length} from ${topic}`)),
        60_000,
      );
      consumer
        .run({
          eachMessage: ({ message }) => {
            received.push({ key: message.key, value: message.value });
            if (received.length === records.length) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
    return received;
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

describeSchemaRegistryContract(
  'HttpSchemaRegistry against the real registry',
  () => registry,
  createdSubjects,
);

describe('serde against the real registry and broker', () => {
  it('registers, encodes, produces, consumes and decodes a RequestEvent unchanged', async () => {
    const schema = loadSchemas().get('RequestEvent');
    if (schema === undefined) throw new Error('schemas/request-event.avsc is missing');
    const eventsSubject = subject('requests');
    const ids = await registerSchemas(registry, [{ subject: eventsSubject, schema }]);
    const id = ids.get(eventsSubject);
    if (id === undefined) throw new Error('not registered');
    const events = Array.from({ length: 20 }, (_, i) => ({
      event_id: `e-${i}`,
      ts: 1_767_225_600_000 + i,
      service: 'checkout',
      endpoint: '/api/orders/{id}',
      method: 'POST',
      status: i % 5 === 0 ? 503 : 200,
      latency_ms: 3.25 * i,
      bytes_out: 1024 * i,
      customer_id: `c-${i % 3}`,
      region: 'eu-west-1',
      ingested_at: 1_767_225_601_000 + i,
    }));
    const encoder = new AvroEncoder<(typeof events)[number]>(id, schema.type);
    const received = await throughKafka(
      events.map((e) => ({ key: Buffer.from(e.event_id), value: encoder.encode(e) })),
    );
    const decoder = new AvroDecoder<(typeof events)[number]>(
      new HttpSchemaRegistry(registryUrl),
      schema.type,
    );
    await decoder.prepare(received.map((r) => r.value));
    expect(received.map((r) => ({ ...decoder.decode(r.value ?? Buffer.alloc(0)) }))).toEqual(events);
    // Registering the same schema again reuses the id (lookup, no new version).
    expect((await registerSchemas(registry, [{ subject: eventsSubject, schema }])).get(eventsSubject)).toBe(
      id,
    );
    expect(await registry.listVersions(eventsSubject)).toEqual([1]);
  });

  it('refuses an incompatible change, naming the subject, the versions and the field', async () => {
    const s = subject('incompatible');
    await registerSchemas(registry, [{ subject: s, schema: event(base) }]);
    await registerSchemas(registry, [
      { subject: s, schema: event([...base, { name: 'region', type: 'string', default: '' }]) },
    ]);
    const broken = event([
      { name: 'event_id', type: 'string' },
      { name: 'status', type: 'string' },
      { name: 'zone', type: 'string' },
    ]);
    const error = await registerSchemas(registry, [{ subject: s, schema: broken }]).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SchemaIncompatibleError);
    const incompatible = error as SchemaIncompatibleError;
    expect(incompatible.subject).toBe(s);
    expect(incompatible.againstVersions).toEqual([1, 2]);
    expect(incompatible.problems).toEqual([
      'field "status" changed type from int to string',
      'field "zone" was added without a default (versions 1, 2 have no such field)',
    ]);
    expect(incompatible.message).toContain(s);
    expect(await registry.listVersions(s)).toEqual([1, 2]);
  });

  it('registers a compatible change (a new field with a default) as version 2, readable from version 1 data', async () => {
    const s = subject('compatible');
    const v1 = event(base);
    const v2 = event([...base, { name: 'region', type: 'string', default: 'unknown' }]);
    const id1 = (await registerSchemas(registry, [{ subject: s, schema: v1 }])).get(s) ?? -1;
    const id2 = (await registerSchemas(registry, [{ subject: s, schema: v2 }])).get(s) ?? -1;
    expect(await registry.listVersions(s)).toEqual([1, 2]);
    expect(await registry.getVersion(s, 2)).toMatchObject({ id: id2 });
    expect((await registry.getVersion(s, 1)).id).toBe(id1);
    const old = new AvroEncoder<{ event_id: string; status: number }>(id1, v1.type).encode({
      event_id: 'e',
      status: 200,
    });
    const decoded = await new AvroDecoder<Record<string, unknown>>(registry, v2.type).decodeAsync(old);
    expect({ ...decoded }).toEqual({ event_id: 'e', status: 200, region: 'unknown' });
  });

  it('reports an id the registry does not know as UNKNOWN_SCHEMA_ID', async () => {
    const decoder = new AvroDecoder<unknown>(registry, event(base).type);
    const bytes = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 2, 0x61, 0x90, 0x03]);
    const error = await decoder.decodeAsync(bytes).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SerdeError);
    expect(error).toMatchObject({
      code: 'TRIBUTARY_SERDE_UNKNOWN_SCHEMA_ID',
      context: { schemaId: 0x7ffffff0 },
    });
  });

  it('names topic subjects with the TopicNameStrategy', () => {
    expect(valueSubject('requests.valid')).toBe('requests.valid-value');
  });
});
