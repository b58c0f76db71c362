import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadSchemas } from '../runtime/serde/index.ts';
import { InMemorySchemaRegistry } from '../runtime/testing/in-memory-schema-registry.ts';
import { deleteTopicsWithPrefix, readTopic, uniquePrefix } from '../runtime/testing/kafka-test-kit.ts';
import { buildFleet } from './fleet.ts';
import { generatorOptionsSchema } from './options.ts';
import { loadReferenceData } from './reference-load.ts';
import { runLoadgen } from './run-loadgen.ts';
import { readRaw } from './test-support.ts';
import { loadTruth } from './truth-store.ts';

const brokers = inject('brokers');
const prefix = uniquePrefix('loadgen');

afterAll(async () => {
  await deleteTopicsWithPrefix(brokers, prefix);
});

describe('load generator against a real broker', () => {
  it('produces what its truth says was acknowledged: counts, bad records by reason, duplicates', async () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'loadgen-runs-'));
    const startMs = Date.now();
    const generator = generatorOptionsSchema.parse({
      seed: 5,
      count: 20_000,
      rate: 20_000,
      startMs,
      duplicates: 0.02,
    });
    const result = await runLoadgen({
      brokers,
      topicPrefix: prefix,
      partitions: 3,
      generator,
      runsDir,
      progress: false,
    });
    const truth = await loadTruth('latest', runsDir);
    expect(truth).toEqual(result.truth);
    expect(truth.failed.deliveries).toBe(0);

    const records = await readTopic(brokers, `${prefix}requests.raw`, 3);
    expect(records.length).toBe(truth.acknowledged.deliveries);

    const reasons: Record<string, number> = {};
    const seen = new Set<string>();
    let duplicates = 0;
    for (const record of records) {
      const read = readRaw(record.value ?? Buffer.alloc(0), startMs);
      if ('reason' in read) {
        reasons[read.reason] = (reasons[read.reason] ?? 0) + 1;
      } else if (seen.has(read.event.event_id)) {
        duplicates++;
      } else {
        seen.add(read.event.event_id);
        expect(record.key).toBe(read.event.event_id);
      }
    }
    expect(reasons).toEqual(Object.fromEntries(Object.entries(truth.dead_letters).filter(([, n]) => n > 0)));
    expect(duplicates).toBe(truth.duplicates);
    expect(duplicates).toBeGreaterThan(200);
    expect(seen.size).toBe(truth.valid_events);
  });

  it('publishes the reference data as Avro, keyed by service and customer id', async () => {
    const registry = new InMemorySchemaRegistry();
    const result = await loadReferenceData({
      brokers,
      registry,
      topicPrefix: prefix,
      fleet: { seed: 5, customers: 300 },
    });
    const fleet = buildFleet({ seed: 5, customers: 300 });
    const schemas = loadSchemas();

    const services = await readTopic(brokers, result.services.topic, 1);
    expect(services.map((r) => r.key)).toEqual(fleet.services.map((s) => s.name));
    const first = services[0]?.value ?? Buffer.alloc(0);
    expect(first.readUInt8(0)).toBe(0);
    expect(first.readInt32BE(1)).toBe(result.services.schemaId);
    expect(schemas.get('Service')?.type.fromBuffer(first.subarray(5))).toMatchObject({
      service: fleet.services[0]?.name,
      team: fleet.services[0]?.team,
      tier: fleet.services[0]?.tier,
      latency_slo_ms: fleet.services[0]?.latencySloMs,
    });

    const customers = await readTopic(brokers, result.customers.topic, 1);
    expect(customers.map((r) => r.key)).toEqual(fleet.customers.map((c) => c.id));
    const customer = schemas
      .get('Customer')
      ?.type.fromBuffer((customers[0]?.value ?? Buffer.alloc(0)).subarray(5)) as { plan: string };
    expect(customer.plan).toBe(fleet.customers[0]?.plan);
  });
});
