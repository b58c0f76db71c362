// How keyed and windowed stores write their values to the changelog: Avro in the Confluent wire format,
// each value wrapped in its store kind's entry record (a keyed entry's time, a window's end), the entry
// schema registered under the changelog topic's subject and checked like a topic's (BACKWARD_TRANSITIVE).
// A restore by newer code then reads entries older code wrote through Avro resolution, and any Avro
// tool with the registry can read a changelog.
import { DefinitionError, TributaryError } from '../errors.ts';
import {
  AvroDecoder,
  SCHEMAS_DIR,
  loadSchemas,
  HEADER_LENGTH,
  parseSchema,
  registeredEncoders,
  valueSubject,
  writeHeader,
} from '../serde/index.ts';
import type { LoadedSchema, SchemaBinding, SchemaRegistry, SerdeLogger } from '../serde/index.ts';
import type { StoreDeclaration } from './declarations.ts';

/** What a keyed store writes per key: the value and the time `expireBefore` orders it by. */
export interface KeyedEntry<V = unknown> {
  time: number;
  value: V;
}

/** What a windowed store writes per (window start, key): the value and the window's end. */
export interface WindowedEntry<V = unknown> {
  end_ms: number;
  value: V;
}

export interface StoreCodec<E> {
  encode(entry: E): Buffer;
  /** Whether `decode` of this value must wait for `prepare` (its writer schema is not fetched yet). */
  needsPrepare(value: Buffer): boolean;
  prepare(values: Iterable<Buffer>): Promise<void>;
  decode(value: Buffer): E;
}

/** Codecs of the keyed and windowed stores, by store name (recent-ids stores write their own format). */
export type StoreCodecs = ReadonlyMap<string, StoreCodec<unknown>>;

type ValueStore = Extract<StoreDeclaration, { schema: string }>;

function hasValueSchema(declaration: StoreDeclaration): declaration is ValueStore {
  return declaration.kind === 'keyed' || declaration.kind === 'windowed';
}

/** The record a store of this kind writes for values of `value`: `<Name>Entry` or `<Name>WindowEntry`. */
export function storeEntrySchema(kind: ValueStore['kind'], value: LoadedSchema): LoadedSchema {
  const own =
    kind === 'keyed'
      ? { name: 'time', type: 'long', doc: 'The entry’s time (ms): entries expire oldest first by it.' }
      : { name: 'end_ms', type: 'long', doc: 'End of the window (exclusive), epoch ms.' };
  const entry = {
    type: 'record',
    name: `${value.name}${kind === 'keyed' ? 'Entry' : 'WindowEntry'}`,
    namespace: 'tributary.state',
    doc: `One ${kind} state store entry holding a ${value.fullName}.`,
    fields: [own, { name: 'value', type: JSON.parse(value.json) as unknown }],
  };
  return parseSchema(JSON.stringify(entry), `${kind} store entry of ${value.name}`);
}

/** Each keyed or windowed store's subject (`<changelog topic>-value`) and entry schema. */
export function storeBindings(
  owner: string,
  declarations: Readonly<Record<string, StoreDeclaration>>,
  changelogTopicFor: (store: string) => string,
  schemas: ReadonlyMap<string, LoadedSchema> = loadSchemas(SCHEMAS_DIR),
): Array<SchemaBinding & { store: string; topic: string }> {
  return Object.entries(declarations).flatMap(([store, declaration]) => {
    if (!hasValueSchema(declaration)) return [];
    const value = schemas.get(declaration.schema);
    if (value === undefined)
      throw new DefinitionError(
        'TRIBUTARY_DEFINITION_INVALID',
        `${owner}: store "${store}" declares schema "${declaration.schema}", but schemas/ has no such record (have: ${[...schemas.keys()].join(', ')})`,
      );
    const topic = changelogTopicFor(store);
    return [
      { store, topic, subject: valueSubject(topic), schema: storeEntrySchema(declaration.kind, value) },
    ];
  });
}

/** Registers every store's entry schema (checked first) and returns a codec per store. */
export async function buildStoreCodecs(
  owner: string,
  declarations: Readonly<Record<string, StoreDeclaration>>,
  options: {
    registry: SchemaRegistry;
    changelogTopicFor: (store: string) => string;
    schemas?: ReadonlyMap<string, LoadedSchema>;
    log?: SerdeLogger;
  },
): Promise<StoreCodecs> {
  const bindings = storeBindings(owner, declarations, options.changelogTopicFor, options.schemas);
  const encoders = await registeredEncoders(options.registry, bindings, options.log);
  const codecs = new Map<string, StoreCodec<unknown>>();
  for (const { store, subject, schema } of bindings) {
    const encoder = encoders.get(subject);
    if (encoder === undefined)
      throw new TributaryError(
        'TRIBUTARY_SCHEMA_NOT_REGISTERED',
        `store ${store}: ${subject} was not registered`,
      );
    const decoder = new AvroDecoder<unknown>(options.registry, schema.type);
    // Its own entries decode without a registry round trip at restore.
    await decoder.prepare([schemaHeader(encoder.schemaId)]);
    codecs.set(store, {
      encode: (entry) => encoder.encode(entry),
      needsPrepare: (value) => decoder.needsPrepare(value),
      prepare: (values) => decoder.prepare(values),
      decode: (value) => decoder.decode(value),
    });
  }
  return codecs;
}

function schemaHeader(id: number): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH);
  writeHeader(header, id);
  return header;
}
