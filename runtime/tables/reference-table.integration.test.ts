// ReferenceTable against the real broker and registry: load a compacted topic with versions, a
// tombstone and an undecodable record, look up at event times, then follow live updates through poll().
import { afterAll, describe, expect, inject, it } from 'vitest';
import { Registry } from 'prom-client';
import type { Customer as CustomerRecord } from '../contracts/index.ts';
import { createLogger } from '../observability/index.ts';
import {
  AvroEncoder,
  HttpSchemaRegistry,
  loadSchemas,
  registerSchemas,
  valueSubject,
} from '../serde/index.ts';
import type { LoadedSchema } from '../serde/index.ts';
import {
  createTopics,
  deleteTopicsWithPrefix,
  produceRecords,
  uniquePrefix,
} from '../testing/kafka-test-kit.ts';
import type { TestRecord } from '../testing/kafka-test-kit.ts';
import { ReferenceTable } from './reference-table.ts';
import { TableMetrics } from './table-metrics.ts';

const brokers = inject('brokers');
const registry = new HttpSchemaRegistry(inject('registryUrl'));
const prefix = uniquePrefix('table');
const log = createLogger({ name: 'test', level: 'silent', pretty: false });
const T0 = Date.now() - 3_600_000;
const MINUTE = 60_000;

afterAll(async () => {
  await deleteTopicsWithPrefix(brokers, prefix);
  await registry
    .deleteSubject(valueSubject(`${prefix}ref.customers`), { permanent: true })
    .catch(() => undefined);
});

function customerSchema(): LoadedSchema {
  const schema = loadSchemas().get('Customer');
  if (schema === undefined) throw new Error('schemas/customer.avsc is missing');
  return schema;
}

async function customersTopic(): Promise<{ topic: string; encode: (c: CustomerRecord) => Buffer }> {
  const topic = `${prefix}ref.customers`;
  await createTopics(brokers, [{ name: topic, partitions: 3, cleanupPolicy: 'compact' }]);
  const schema = customerSchema();
  const ids = await registerSchemas(registry, [{ subject: valueSubject(topic), schema }]);
  const encoder = new AvroEncoder<CustomerRecord>(ids.get(valueSubject(topic)) ?? 0, schema.type);
  return { topic, encode: (c) => encoder.encode(c) };
}

function customer(id: string, plan: string, updatedAt: number): CustomerRecord {
  return { customer_id: id, plan, account_region: 'eu-west-1', updated_at: updatedAt };
}

async function pollUntil(table: ReferenceTable<CustomerRecord>, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!done()) {
    if (Date.now() > deadline)
      throw new Error(`table did not show the update in time: ${JSON.stringify(table.progress())}`);
    table.poll();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('ReferenceTable on a real compacted topic', () => {
  it('loads versions and a tombstone, answers at event time, then follows live updates via poll()', async () => {
    const { topic, encode } = await customersTopic();
    const many = Array.from({ length: 60 }, (_, i) => customer(`c-${100 + i}`, 'free', T0));
    const initial: TestRecord[] = [
      { key: 'c-1', value: encode(customer('c-1', 'free', T0)) },
      { key: 'c-1', value: encode(customer('c-1', 'pro', T0 + MINUTE)) },
      { key: 'c-2', value: encode(customer('c-2', 'enterprise', T0)) },
      { key: 'c-2', value: null },
      { key: 'c-bad', value: Buffer.from('not avro at all') },
      ...many.map((c) => ({ key: c.customer_id, value: encode(c) })),
    ];
    await produceRecords(brokers, topic, initial);

    const table = new ReferenceTable<CustomerRecord>({
      name: 'customers',
      topic,
      brokers,
      registry,
      readerType: customerSchema().type,
      validFrom: { from: 'field', field: 'updated_at' },
      logger: log,
    });
    const metrics = new Registry();
    new TableMetrics(metrics).track(table);
    try {
      await table.load();
      const progress = table.progress();
      expect(progress.state).toBe('following');
      expect(progress.records).toBe(initial.length - 1);
      expect(progress.partitions).toHaveLength(3);
      expect(progress.partitions.reduce((sum, p) => sum + p.end, 0)).toBe(initial.length);
      for (const p of progress.partitions) expect(p.position).toBeGreaterThanOrEqual(p.end);

      expect(table.get('c-1', T0 + 1)?.plan).toBe('free');
      expect(table.get('c-1', T0 + MINUTE)?.plan).toBe('pro');
      expect(table.get('c-2', T0 + 1)?.plan).toBe('enterprise');
      expect(table.get('c-2', Date.now() + MINUTE)).toBeUndefined();
      expect(table.explainMiss('c-2', Date.now() + MINUTE)).toBe('deleted');
      expect(table.explainMiss('c-1', T0 - 1)).toBe('before_history');
      expect(table.explainMiss('c-bad', T0)).toBe('unknown_key');
      expect(table.get('c-159', T0)?.plan).toBe('free');
      expect(table.stats()).toMatchObject({ entries: 61, versions: 64, rejected: 1, lag: 0 });

      await produceRecords(brokers, topic, [
        { key: 'c-1', value: encode(customer('c-1', 'enterprise', T0 + 2 * MINUTE)) },
        { key: 'c-3', value: encode(customer('c-3', 'pro', T0 + 2 * MINUTE)) },
      ]);
      // Updates wait for poll(): the table never changes between two of the processor's calls.
      expect(table.get('c-3', T0 + 2 * MINUTE)).toBeUndefined();
      await pollUntil(table, () => table.get('c-3', T0 + 2 * MINUTE) !== undefined);
      await pollUntil(table, () => table.get('c-1', T0 + 2 * MINUTE)?.plan === 'enterprise');
      expect(table.get('c-1', T0 + MINUTE)?.plan).toBe('pro');

      const scraped = await metrics.metrics();
      expect(scraped).toContain('tributary_table_entries{table="customers"} 62');
      expect(scraped).toContain('tributary_table_records_total{table="customers",outcome="rejected"} 1');
      expect(scraped).toMatch(/tributary_table_last_update_age_seconds\{table="customers"\} \d/);
    } finally {
      await table.close();
    }
  });

  it('refuses to load a table whose topic does not exist, naming the code', async () => {
    const table = new ReferenceTable<CustomerRecord>({
      name: 'missing',
      topic: `${prefix}ref.nothing-here`,
      brokers,
      registry,
      readerType: customerSchema().type,
      validFrom: { from: 'record_timestamp' },
      logger: log,
    });
    await expect(table.load()).rejects.toMatchObject({ code: 'TRIBUTARY_KAFKA_TOPIC_MISSING' });
    await table.close();
  });
});
