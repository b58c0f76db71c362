// Publishes the fleet's reference data to the compacted topics ref.services and ref.customers, as Avro
// in the Confluent wire format (subjects `<topic>-value`), keyed by service and customer_id.
import { TributaryError } from '../runtime/errors.ts';
import { BulkProducer, ensureTopics, withAdmin } from '../runtime/kafka/index.ts';
import type { TopicDrift } from '../runtime/kafka/index.ts';
import { AvroEncoder, loadSchemas, registerSchemas, valueSubject } from '../runtime/serde/index.ts';
import type { LoadedSchema, SchemaRegistry } from '../runtime/serde/index.ts';
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

  const schemas = loadSchemas();
  const serviceSchema = requireSchema(schemas, 'Service');
  const customerSchema = requireSchema(schemas, 'Customer');
  const ids = await registerSchemas(options.registry, [
    { subject: valueSubject(servicesTopic), schema: serviceSchema },
    { subject: valueSubject(customersTopic), schema: customerSchema },
  ]);
  const serviceEncoder = new AvroEncoder(ids.get(valueSubject(servicesTopic)) ?? 0, serviceSchema.type);
  const customerEncoder = new AvroEncoder(ids.get(valueSubject(customersTopic)) ?? 0, customerSchema.type);

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

function requireSchema(schemas: Map<string, LoadedSchema>, name: string): LoadedSchema {
  const schema = schemas.get(name);
  if (schema === undefined) {
    throw new TributaryError(
      'TRIBUTARY_SCHEMA_INVALID',
      `schemas/ has no record ${name} (expected schemas/${name.toLowerCase()}.avsc)`,
    );
  }
  return schema;
}
