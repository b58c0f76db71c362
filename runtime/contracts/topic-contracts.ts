// Which schema each registry subject must hold, from the declarations of the processes that write or
// read it: what `./tributary schemas check` compares with the registry before a deploy.
import { TributaryError } from '../errors.ts';
import { valueSubject } from '../serde/registry.ts';
import type { LoadedSchema } from '../serde/schema-loader.ts';
import type { AnyProcessorDefinition, ValueCodec } from '../app/processor/definition.ts';
import type { AnySinkDefinition } from '../app/sink/sink-definition.ts';
import { boundTopics } from '../app/sink/run-sink.ts';
import { DEAD_LETTER_SCHEMA } from '../app/processor/codecs.ts';
import { changelogTopicFor } from '../app/processor/processor-topics.ts';
import { storeBindings } from '../state/store-codecs.ts';
import { declaredStores } from '../time/processor-time.ts';

export interface Contract {
  /** Physical topic (with the prefix). */
  topic: string;
  /** `<topic>-value`. */
  subject: string;
  schema: LoadedSchema;
  /** Who declares it, e.g. `ingest writes`, `clickhouse-sink reads`. */
  usedBy: string[];
}

/**
 * A processor's Avro topics: outputs and dead letters it writes, an Avro input it reads, and the
 * changelogs of its keyed and windowed stores (their entry records, see state/store-codecs.ts).
 */
export function processorContracts(
  definition: AnyProcessorDefinition,
  prefix: string,
  schemas: ReadonlyMap<string, LoadedSchema>,
): Contract[] {
  const found = (record: string) => schemaNamed(schemas, record, definition.name);
  const contracts: Contract[] = [];
  const input = definition.input as { topic: string; value: ValueCodec<unknown> };
  if (input.value.kind === 'avro') {
    contracts.push(contract(prefix + input.topic, found(input.value.schema), `${definition.name} reads`));
  }
  const outputs = Object.values(definition.outputs as Record<string, typeof input>);
  for (const output of outputs) {
    if (output.value.kind !== 'avro') continue;
    contracts.push(contract(prefix + output.topic, found(output.value.schema), `${definition.name} writes`));
  }
  if (definition.deadLetter !== undefined) {
    const topic = prefix + definition.deadLetter.topic;
    contracts.push(contract(topic, found(DEAD_LETTER_SCHEMA), `${definition.name} writes`));
  }
  const stores = declaredStores(definition);
  for (const { topic, schema } of storeBindings(
    definition.name,
    stores,
    changelogTopicFor(definition, prefix),
    schemas,
  ))
    contracts.push(contract(topic, schema, `${definition.name} state`));
  return contracts;
}

/** A sink's bound topics (read) and their dead-letter topics (written). */
export function sinkContracts(
  definition: AnySinkDefinition,
  prefix: string,
  schemas: ReadonlyMap<string, LoadedSchema>,
): Contract[] {
  const found = (record: string) => schemaNamed(schemas, record, definition.name);
  const contracts: Contract[] = [];
  for (const [topic, { binding, deadLetterTopic }] of boundTopics(definition, prefix)) {
    if (binding.value.kind === 'avro')
      contracts.push(contract(topic, found(binding.value.schema), `${definition.name} reads`));
    contracts.push(contract(deadLetterTopic, found(DEAD_LETTER_SCHEMA), `${definition.name} writes`));
  }
  return contracts;
}

export function contract(topic: string, schema: LoadedSchema, usedBy: string): Contract {
  return { topic, subject: valueSubject(topic), schema, usedBy: [usedBy] };
}

/**
 * One contract per subject, users merged, in first-seen order. Two different schemas declared for one
 * subject is a declaration mistake (their processes could not share the topic).
 */
export function mergeContracts(contracts: readonly Contract[]): Contract[] {
  const bySubject = new Map<string, Contract>();
  for (const next of contracts) {
    const seen = bySubject.get(next.subject);
    if (seen === undefined) {
      bySubject.set(next.subject, { ...next, usedBy: [...next.usedBy] });
      continue;
    }
    if (seen.schema.json !== next.schema.json) {
      throw new TributaryError(
        'TRIBUTARY_SCHEMA_INVALID',
        `topic ${next.topic}: ${seen.usedBy.join(', ')} declare ${seen.schema.name} but ${next.usedBy.join(', ')} declare ${next.schema.name}`,
        { context: { subject: next.subject } },
      );
    }
    for (const user of next.usedBy) if (!seen.usedBy.includes(user)) seen.usedBy.push(user);
  }
  return [...bySubject.values()];
}

function schemaNamed(
  schemas: ReadonlyMap<string, LoadedSchema>,
  record: string,
  owner: string,
): LoadedSchema {
  const schema = schemas.get(record);
  if (schema !== undefined) return schema;
  throw new TributaryError(
    'TRIBUTARY_SCHEMA_INVALID',
    `${owner} declares schema "${record}", but schemas/ has no such record (have: ${[...schemas.keys()].join(', ')})`,
    { context: { owner, record } },
  );
}
