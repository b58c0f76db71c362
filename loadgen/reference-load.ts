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
  /** `updated_at` of every record, epoch ms. Default now. */
  updatedAt?: number;
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
        { name: servicesTopic, partitions, cleanupPolicy: 'compact' },
        { name: customersTopic, partitions, cleanupPolicy: 'compact' },
      ]),
    ),
  );

  const [serviceContract, customerContract] = referenceContracts(prefix, loadSchemas());
  const ids = await registerSchemas(options.registry, [serviceContract, customerContract]);
  const serviceEncoder = encoderFor(serviceContract, ids);
  const customerEncoder = encoderFor(customerContract, ids);

  const fleet = buildFleet(options.fleet);
  const updatedAt = options.updatedAt ?? Date.now();
  const services = serviceRecords(fleet, updatedAt);
  const customers = customerRecords(fleet, updatedAt);

  const failures: string[] = [];
  const producer = new BulkProducer<string>(
    { brokers: options.brokers, clientId: 'tributary-ref-load' },
    (error, key) => {
      if (error !== undefined && failures.length < 5) failures.push(`${key}: ${error.message}`);
    },
  );
  await producer.connect();
  try {
    for (const record of services) {
      await producer.produce(servicesTopic, record.service, serviceEncoder.encode(record), record.service);
    }
    for (const record of customers) {
      await producer.produce(
        customersTopic,
        record.customer_id,
        customerEncoder.encode(record),
        record.customer_id,
      );
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
    services: { topic: servicesTopic, records: services.length, schemaId: serviceEncoder.schemaId },
    customers: { topic: customersTopic, records: customers.length, schemaId: customerEncoder.schemaId },
    drift,
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
