// What a processor declares: its input, outputs, dead-letter topic, config and handler.
// The runtime owns everything else (clients, transactions, serde, signals, health).
import type { z } from 'zod';
import type { ConfigShape } from '../config/index.ts';
import type { RuntimeConfig } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';
import type { StoreDeclaration, StoreOf } from '../state/index.ts';
import type { SchemaName, SchemaRecords } from '../contracts/records.ts';

/** How a topic's values are encoded: raw bytes (e.g. JSON from services) or Avro by schema record name. */
export type ValueCodec<T> =
  { kind: 'bytes'; readonly _type?: T } | { kind: 'avro'; schema: string; readonly _type?: T };

export const bytes = (): ValueCodec<Buffer> => ({ kind: 'bytes' });
/** Avro by record name; the value type is the record's generated type (runtime/contracts/records.ts). */
export const avro = <N extends SchemaName>(schema: N): ValueCodec<SchemaRecords[N]> => ({
  kind: 'avro',
  schema,
});

export type ValueOf<C> = C extends ValueCodec<infer T> ? T : never;

export interface TopicDeclaration<T> {
  /** Logical name, e.g. `requests.valid`; the runtime prefixes it with `topicPrefix`. */
  topic: string;
  value: ValueCodec<T>;
  /** Partitions when the runtime has to create it; default from config `defaultPartitions`. */
  partitions?: number;
  cleanupPolicy?: 'delete' | 'compact';
  retentionMs?: number;
}

export interface InputRecord<T> {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: T;
  /** Kafka record timestamp (ms). */
  timestamp: number;
}

export type OutputsSpec = Record<string, TopicDeclaration<unknown>>;

export interface EmitOptions {
  timestamp?: number;
}

export type StoresSpec = Record<string, StoreDeclaration<unknown>>;

export interface ProcessorContext<O extends OutputsSpec, C, S extends StoresSpec = StoresSpec> {
  readonly config: C;
  readonly log: Logger;
  /** Queues an output record; it is written in the same transaction as this batch's input offsets. */
  emit<K extends keyof O & string>(
    output: K,
    key: string | Buffer | null,
    value: ValueOf<O[K]['value']>,
    options?: EmitOptions,
  ): void;
  /** Counts an outcome that produces no record (e.g. a dropped duplicate); shows in metrics. */
  count(outcome: 'duplicate' | 'dropped', reason?: string): void;
  /** The current record's partition's view of a declared store; writes commit with the batch. */
  store<K extends keyof S & string>(name: K): StoreOf<S[K]>;
}

export type ProcessorConfig<S extends ConfigShape> = RuntimeConfig & z.infer<z.ZodObject<S>>;

export interface ProcessorDefinition<
  I,
  O extends OutputsSpec,
  S extends ConfigShape,
  T extends StoresSpec = StoresSpec,
> {
  /** Also the consumer group and the transactional-id prefix. */
  name: string;
  description: string;
  input: TopicDeclaration<I>;
  outputs: O;
  /** Where records the handler rejects (ValidationError) or cannot decode go, as Avro `DeadLetter`. */
  deadLetter?: { topic: string; partitions?: number };
  config: S;
  /** State per input partition (keyed stores, recent-id sets), backed by `<processor>.<store>.changelog` topics. */
  stores?: T;
  handle(record: InputRecord<I>, ctx: ProcessorContext<O, ProcessorConfig<S>, T>): void;
}

/** Identity function that gives a definition its types; the runtime runs it (`runProcessor`). */
export function defineProcessor<
  I,
  O extends OutputsSpec,
  S extends ConfigShape,
  T extends StoresSpec = StoresSpec,
>(definition: ProcessorDefinition<I, O, S, T>): ProcessorDefinition<I, O, S, T> {
  return definition;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any definition, for code that runs them all
export type AnyProcessorDefinition = ProcessorDefinition<any, any, any, any>;
