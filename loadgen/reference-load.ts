// Publishes the fleet's reference data to the compacted topics ref.services and ref.customers, as Avro
// in the Confluent wire format (subjects `<topic>-value`), keyed by service and customer_id.
import { TributaryError } from '../runtime/errors.ts';
import { BulkProducer, ensureTopics, withAdmin } from '../runtime/kafka/index.ts';
import type { TopicDrift } from '../runtime/kafka/index.ts';
import { AvroEncoder, loadSchemas, registerSchemas } from '../runtime/serde/index.ts';
import type { LoadedSchema, SchemaRegistry } from '../runtime/serde/index.ts';
import { contract } from '../runtime/contracts/index.ts';
import type { Contract } from '../runtime/contracts/index.ts';
import { buildFleet } from './fleet.ts';
import { reachKafka } from './reach-kafka.ts';
import type { FleetOptions } from './fleet.ts';
import { customerRecords, serviceRecords } from './reference-data.ts';
import type { CustomerRecord, ServiceRecord } from './reference-data.ts';
import { timelineRecords } from './reference-timeline.ts';
import type { ReferenceRecord, ReferenceTimeline } from './reference-timeline.ts';
import type { Fleet } from './fleet.ts';

/**
 * Compaction keeps superseded versions for the tables' history window (8 days, REFERENCE_TABLE_DEFAULTS):
 * a replay or reprocess then finds the versions its events were first joined with.
 */
const KEEP_HISTORY = { 'min.compaction.lag.ms': String(8 * 86_400_000) };

export const SERVICES_TOPIC = 'ref.services';
export const CUSTOMERS_TOPIC = 'ref.customers';

export interface ReferenceLoadOptions {
  brokers: string;
  registry: SchemaRegistry;
  fleet: FleetOptions;
  /** Prepended to both topics (and so to their subjects). Default ''. */
  topicPrefix?: string;
  /** Partitions of the topics when they have to be created. Default 1: every enrich copy reads all of them. */
  partitions?: number;
  /** `updated_at` of every record, epoch ms. Default now. Ignored with `timeline`. */
  updatedAt?: number;
  /** Publish a run's reference data over time instead (first versions, then every change, tombstones included). */
  timeline?: ReferenceTimeline;
}

export interface ReferenceLoadResult {
  services: { topic: string; records: number; schemaId: number };
  customers: { topic: string; records: number; schemaId: number };
  drift: TopicDrift[];
}

export async function loadReferenceData(options: ReferenceLoadOptions): Promise<ReferenceLoadResult> {
  const prefix = options.topicPrefix ?? '';
  const servicesTopic = `${prefix}${SERVICES_TOPIC}`;
  const customersTopic = `${prefix}${CUSTOMERS_TOPIC}`;
  const partitions = options.partitions ?? 1;
  const drift = await reachKafka(options.brokers, `create ${servicesTopic} and ${customersTopic}`, () =>
    withAdmin(options.brokers, (admin) =>
      ensureTopics(admin, [
        { name: servicesTopic, partitions, cleanupPolicy: 'compact', extraConfig: KEEP_HISTORY },
        { name: customersTopic, partitions, cleanupPolicy: 'compact', extraConfig: KEEP_HISTORY },
      ]),
    ),
  );

  const [serviceContract, customerContract] = referenceContracts(prefix, loadSchemas());
  const ids = await registerSchemas(options.registry, [serviceContract, customerContract]);
  const serviceEncoder = encoderFor(serviceContract, ids);
  const customerEncoder = encoderFor(customerContract, ids);

  const fleet = buildFleet(options.fleet);
  const records = referenceRecords(fleet, options);
  const failures: string[] = [];
  const producer = new BulkProducer<string>(
    { brokers: options.brokers, clientId: 'tributary-ref-load' },
    (error, key) => {
      if (error !== undefined && failures.length < 5) failures.push(`${key}: ${error.message}`);
    },
  );
  await producer.connect();
  try {
    for (const r of records.services) {
      const value = r.value === null ? null : serviceEncoder.encode(r.value);
      await producer.produce(servicesTopic, r.key, value, r.key, r.timestamp);
    }
    for (const r of records.customers) {
      const value = r.value === null ? null : customerEncoder.encode(r.value);
      await producer.produce(customersTopic, r.key, value, r.key, r.timestamp);
    }
  } finally {
    await producer.close();
  }
  if (producer.failed > 0) {
    throw new TributaryError(
      'TRIBUTARY_KAFKA_TRANSIENT',
      `${producer.failed} reference records were not acknowledged: ${failures.join('; ')}`,
    );
  }
  return {
    services: { topic: servicesTopic, records: records.services.length, schemaId: serviceEncoder.schemaId },
    customers: {
      topic: customersTopic,
      records: records.customers.length,
      schemaId: customerEncoder.schemaId,
    },
    drift,
  };
}

function referenceRecords(
  fleet: Fleet,
  options: ReferenceLoadOptions,
): { services: ReferenceRecord<ServiceRecord>[]; customers: ReferenceRecord<CustomerRecord>[] } {
  if (options.timeline !== undefined) return timelineRecords(fleet, options.timeline);
  const updatedAt = options.updatedAt ?? Date.now();
  return {
    services: serviceRecords(fleet, updatedAt).map((value) => ({
      key: value.service,
      value,
      timestamp: updatedAt,
    })),
    customers: customerRecords(fleet, updatedAt).map((value) => ({
      key: value.customer_id,
      value,
      timestamp: updatedAt,
    })),
  };
}

/** The subjects reference loading writes: what it registers, and what `schemas check` compares. */
export function referenceContracts(
  prefix: string,
  schemas: ReadonlyMap<string, LoadedSchema>,
): [Contract, Contract] {
  return [
    contract(prefix + SERVICES_TOPIC, requireSchema(schemas, 'Service'), 'ref load writes'),
    contract(prefix + CUSTOMERS_TOPIC, requireSchema(schemas, 'Customer'), 'ref load writes'),
  ];
}

function encoderFor(written: Contract, ids: ReadonlyMap<string, number>): AvroEncoder<unknown> {
  return new AvroEncoder(ids.get(written.subject) ?? 0, written.schema.type);
}

function requireSchema(schemas: ReadonlyMap<string, LoadedSchema>, name: string): LoadedSchema {
  const schema = schemas.get(name);
  if (schema === undefined) {
    throw new TributaryError(
      'TRIBUTARY_SCHEMA_INVALID',
      `schemas/ has no record ${name} (expected schemas/${name.toLowerCase()}.avsc)`,
    );
  }
  return schema;
}
