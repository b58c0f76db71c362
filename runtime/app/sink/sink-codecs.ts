// A sink's codecs, resolved once at start: one Avro decoder per bound topic (the binding's record as
// reader schema) and one DeadLetter encoder per dead-letter topic (schema registered under its subject).
import { DefinitionError, SerdeError, TributaryError } from '../../errors.ts';
import {
  AvroDecoder,
  SCHEMAS_DIR,
  loadSchemas,
  registeredEncoders,
  valueSubject,
} from '../../serde/index.ts';
import type { LoadedSchema, SchemaRegistry } from '../../serde/index.ts';
import type { Logger } from '../../observability/index.ts';
import type { DeadLetterValue } from '../processor/batch.ts';
import { DEAD_LETTER_SCHEMA } from '../processor/codecs.ts';
import type { SinkBinding } from './sink-definition.ts';

export interface SinkCodecs {
  /** Fetches the writer schemas a batch needs; REGISTRY_UNAVAILABLE is retryable. */
  prepare(values: ReadonlyArray<{ topic: string; value: Buffer | null }>): Promise<void>;
  /** Decodes one value of a bound topic; SerdeError for what cannot be decoded. */
  decode(topic: string, value: Buffer | null): Record<string, unknown>;
  encodeDeadLetter(topic: string, value: DeadLetterValue): Buffer;
}

export async function buildSinkCodecs(
  bindings: ReadonlyArray<{ physicalTopic: string; binding: SinkBinding }>,
  deadLetterTopics: readonly string[],
  registry: SchemaRegistry,
  log: Logger,
): Promise<SinkCodecs> {
  const schemas = loadSchemas(SCHEMAS_DIR);
  const decoders = bindingDecoders(bindings, registry, schemas);
  const deadLetter = schemaNamed(schemas, DEAD_LETTER_SCHEMA);
  const bySubject = await registeredEncoders<DeadLetterValue>(
    registry,
    deadLetterTopics.map((topic) => ({ subject: valueSubject(topic), schema: deadLetter })),
    log,
  );
  const encoders = new Map(deadLetterTopics.map((topic) => [topic, bySubject.get(valueSubject(topic))]));
  const decoderFor = (topic: string) => {
    const decoder = decoders.get(topic);
    if (decoder === undefined)
      throw new TributaryError('TRIBUTARY_INTERNAL_INVARIANT', `no binding for topic ${topic}`);
    return decoder;
  };
  return {
    async prepare(values) {
      const byTopic = new Map<string, Array<Buffer | null>>();
      for (const { topic, value } of values) {
        const list = byTopic.get(topic) ?? [];
        list.push(value);
        byTopic.set(topic, list);
      }
      await Promise.all([...byTopic].map(([topic, list]) => decoderFor(topic).prepare(list)));
    },
    decode(topic, value) {
      if (value === null)
        throw new SerdeError('TRIBUTARY_SERDE_TRUNCATED', 'the record has no value (a tombstone)');
      return decoderFor(topic).decode(value);
    },
    encodeDeadLetter(topic, value) {
      const encoder = encoders.get(topic);
      if (encoder === undefined)
        throw new TributaryError('TRIBUTARY_INTERNAL_INVARIANT', `no dead-letter encoder for ${topic}`);
      return encoder.encode(value);
    },
  };
}

function schemaNamed(schemas: ReadonlyMap<string, LoadedSchema>, name: string): LoadedSchema {
  const schema = schemas.get(name);
  if (schema === undefined)
    throw new DefinitionError('TRIBUTARY_DEFINITION_INVALID', `no schema "${name}" in ${SCHEMAS_DIR}`);
  return schema;
}

/** A decoder per bound topic, reading its binding's record (older writers resolve to it). */
function bindingDecoders(
  bindings: ReadonlyArray<{ physicalTopic: string; binding: SinkBinding }>,
  registry: SchemaRegistry,
  schemas: ReadonlyMap<string, LoadedSchema>,
): Map<string, AvroDecoder<Record<string, unknown>>> {
  const decoders = new Map<string, AvroDecoder<Record<string, unknown>>>();
  for (const { physicalTopic, binding } of bindings) {
    if (binding.value.kind !== 'avro')
      throw new DefinitionError(
        'TRIBUTARY_DEFINITION_INVALID',
        `sink binding ${binding.topic}: only Avro values`,
      );
    decoders.set(physicalTopic, new AvroDecoder(registry, schemaNamed(schemas, binding.value.schema).type));
  }
  return decoders;
}
