// One reference record changed or deleted by hand (`tributary ref set | delete`): the value is checked
// against its schema (every field named that is missing, unknown or of the wrong type) before anything
// is written; a delete is a tombstone. `updated_at` (the version's valid time) defaults to now.
import type { types } from 'avsc';
import { TributaryError } from '../runtime/errors.ts';
import { BulkProducer } from '../runtime/kafka/index.ts';
import { AvroEncoder, loadSchemas, registerSchemas } from '../runtime/serde/index.ts';
import type { SchemaRegistry } from '../runtime/serde/index.ts';
import { referenceContracts } from './reference-load.ts';

export const REFERENCE_TABLES = {
  services: { keyField: 'service', contract: 0 },
  customers: { keyField: 'customer_id', contract: 1 },
} as const;
export type ReferenceTableName = keyof typeof REFERENCE_TABLES;

export interface ReferenceEdit {
  brokers: string;
  registry: SchemaRegistry;
  topicPrefix: string;
  table: ReferenceTableName;
  /** The record to publish, or the key to delete. */
  edit: { set: Record<string, unknown> } | { delete: string };
  now?: () => number;
}

/** Publishes the edit; returns the topic and key written. Throws TributaryError for a bad value. */
export async function editReference(options: ReferenceEdit): Promise<{ topic: string; key: string }> {
  const { keyField, contract: index } = REFERENCE_TABLES[options.table];
  const contract = referenceContracts(options.topicPrefix, loadSchemas())[index];
  let key: string;
  let value: Record<string, unknown> | null = null;
  if ('delete' in options.edit) {
    key = options.edit.delete;
  } else {
    value = { updated_at: (options.now ?? Date.now)(), ...options.edit.set };
    const fields = new Set((contract.schema.type as types.RecordType).fields.map((f) => f.name));
    const unknown = Object.keys(value).filter((name) => !fields.has(name));
    if (unknown.length > 0) {
      throw new TributaryError(
        'TRIBUTARY_RECORD_INVALID',
        `${options.table}: unknown field(s) ${unknown.join(', ')}; the fields are ${[...fields].join(', ')}`,
      );
    }
    const keyValue = value[keyField];
    key = typeof keyValue === 'string' ? keyValue : '';
    // Checked before anything is contacted: the error names each field that is wrong and why.
    new AvroEncoder<unknown>(0, contract.schema.type).encode(value);
  }
  if (key === '')
    throw new TributaryError('TRIBUTARY_RECORD_INVALID', `${options.table}: no ${keyField} given`);
  const ids = await registerSchemas(options.registry, [contract]);
  const encoder = new AvroEncoder<unknown>(ids.get(contract.subject) ?? 0, contract.schema.type);
  const encoded = value === null ? null : encoder.encode(value);
  const topic = contract.topic;
  let failure: Error | undefined;
  const producer = new BulkProducer<string>(
    { brokers: options.brokers, clientId: 'tributary-ref-edit' },
    (error) => {
      failure ??= error;
    },
  );
  await producer.connect();
  try {
    await producer.produce(topic, key, encoded, key);
  } finally {
    await producer.close();
  }
  if (failure !== undefined) {
    throw new TributaryError(
      'TRIBUTARY_KAFKA_TRANSIENT',
      `${topic} did not acknowledge ${key}: ${failure.message}`,
    );
  }
  return { topic, key };
}
