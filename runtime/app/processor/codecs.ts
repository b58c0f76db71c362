// Resolves a processor's codecs once at start: output schemas registered (compatibility-checked) and
// their ids known, the input decoder with its reader schema, the dead-letter encoder, and the codecs of
// its state stores' changelogs (entry schemas registered under the changelog subjects).
import { DefinitionError, SerdeError, TributaryError } from '../../errors.ts';
import {
  AvroDecoder,
  SCHEMAS_DIR,
  loadSchemas,
  registeredEncoders,
  valueSubject,
} from '../../serde/index.ts';
import type { AvroEncoder, LoadedSchema, SchemaRegistry } from '../../serde/index.ts';
import type { Logger } from '../../observability/index.ts';
import { buildStoreCodecs } from '../../state/index.ts';
import type { StoreCodecs } from '../../state/index.ts';
import { declaredStores } from '../../time/index.ts';
import type { AnyProcessorDefinition, ValueCodec } from './definition.ts';
import type { BatchCodecs } from './batch.ts';
import { DEAD_LETTER_OUTPUT } from './batch.ts';

export const DEAD_LETTER_SCHEMA = 'DeadLetter';

export interface ResolvedCodecs {
  codecs: BatchCodecs;
  prepareInput: (values: ReadonlyArray<Buffer | null>) => Promise<void>;
  stores: StoreCodecs;
}

function schemaNamed(schemas: ReadonlyMap<string, LoadedSchema>, name: string): LoadedSchema {
  const schema = schemas.get(name);
  if (schema === undefined)
    throw new DefinitionError(
      'TRIBUTARY_DEFINITION_INVALID',
      `no schema "${name}" in ${SCHEMAS_DIR} (have: ${[...schemas.keys()].join(', ')})`,
    );
  return schema;
}

function asBytes(value: unknown, output: string): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value);
  throw new SerdeError(
    'TRIBUTARY_SERDE_ENCODE_FAILED',
    `output "${output}" is declared as bytes but got ${typeof value}`,
  );
}

export async function buildCodecs(
  definition: AnyProcessorDefinition,
  registry: SchemaRegistry,
  topics: { topicFor: (output: string) => string; changelogTopicFor: (store: string) => string },
  log: Logger,
): Promise<ResolvedCodecs> {
  const schemas = loadSchemas(SCHEMAS_DIR);
  const encoders = await outputEncoders(definition, registry, topics.topicFor, schemas, log);
  const inputCodec = definition.input.value as ValueCodec<unknown>;
  const decoder =
    inputCodec.kind === 'avro'
      ? new AvroDecoder<unknown>(registry, schemaNamed(schemas, inputCodec.schema).type)
      : undefined;
  const stores = await buildStoreCodecs(definition.name, declaredStores(definition), {
    registry,
    changelogTopicFor: topics.changelogTopicFor,
    schemas,
    log,
  });
  const encodeWith = (output: string, value: unknown): Buffer => {
    const encoder = encoders.get(output);
    return encoder === undefined ? asBytes(value, output) : encoder.encode(value);
  };
  return {
    codecs: {
      decodeInput(value) {
        if (decoder === undefined)
          throw new TributaryError('TRIBUTARY_INTERNAL_INVARIANT', `${definition.name} has no Avro input`);
        if (value === null)
          throw new SerdeError('TRIBUTARY_SERDE_TRUNCATED', 'the record has no value (a tombstone)');
        return decoder.decode(value);
      },
      encodeOutput: encodeWith,
      encodeDeadLetter: (value) => encodeWith(DEAD_LETTER_OUTPUT, value),
    },
    prepareInput: async (values) => {
      if (decoder !== undefined) await decoder.prepare(values);
    },
    stores,
  };
}

/** An encoder per Avro output (and the dead letters), its schema registered under the topic's subject. */
async function outputEncoders(
  definition: AnyProcessorDefinition,
  registry: SchemaRegistry,
  topicFor: (output: string) => string,
  schemas: ReadonlyMap<string, LoadedSchema>,
  log: Logger,
): Promise<Map<string, AvroEncoder<unknown>>> {
  const avroOutputs: Array<{ output: string; schema: LoadedSchema }> = [];
  for (const [output, declared] of Object.entries(
    definition.outputs as Record<string, { value: ValueCodec<unknown> }>,
  )) {
    if (declared.value.kind === 'avro')
      avroOutputs.push({ output, schema: schemaNamed(schemas, declared.value.schema) });
  }
  if (definition.deadLetter !== undefined)
    avroOutputs.push({ output: DEAD_LETTER_OUTPUT, schema: schemaNamed(schemas, DEAD_LETTER_SCHEMA) });
  const subjectOf = (output: string): string => valueSubject(topicFor(output));
  const bindings = avroOutputs.map(({ output, schema }) => ({ subject: subjectOf(output), schema }));
  const bySubject = await registeredEncoders(registry, bindings, log);
  const encoders = new Map<string, AvroEncoder<unknown>>();
  for (const { output } of avroOutputs) {
    const encoder = bySubject.get(subjectOf(output));
    if (encoder !== undefined) encoders.set(output, encoder);
  }
  return encoders;
}
