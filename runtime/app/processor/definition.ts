// What a processor declares: its input, outputs, dead-letter topic, config, stores, reference tables,
// the outcomes it counts, start-time resources and its handler. The runtime owns everything else
// (clients, transactions, serde, signals, health).
import type { TableMiss, ValidFrom } from '../../tables/index.ts';
import type { z } from 'zod';
import type { ConfigShape } from '../../config/index.ts';
import type { RuntimeConfig } from '../../config/index.ts';
import type { Logger } from '../../observability/index.ts';
import type { StoreDeclaration, StoreOf } from '../../state/index.ts';
import type { SchemaName, SchemaRecords } from '../../contracts/records.ts';

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
/** What a processor that declares no stores (or tables) may name: nothing. */
export type NoneDeclared = Record<never, never>;

/**
 * The outcomes a processor counts (records that produce no output), a closed set that becomes metric
 * labels: a list of names (`['duplicate']`), or names with their closed set of reasons
 * (`{ dropped: ['skip', 'test_traffic'] }`).
 */
export type OutcomesSpec = readonly string[] | Readonly<Record<string, readonly string[]>>;

/** `ctx.count`: an outcome from the declared list, or an outcome with one of its declared reasons. */
export type CountOutcome<U extends OutcomesSpec> = U extends readonly string[]
  ? (outcome: U[number]) => void
  : <K extends keyof U & string>(outcome: K, reason: U[K] extends readonly (infer R)[] ? R : never) => void;

/** A compacted reference topic (services, customers) every copy holds, versioned by valid time. */
export interface TableDeclaration<V> {
  topic: string;
  value: ValueCodec<V>;
  /** Where a version's valid time comes from; default the record's timestamp. */
  validFrom?: ValidFrom;
  /** How long a superseded version stays answerable, in ms; default 8 days (REFERENCE_TABLE_DEFAULTS). */
  historyMs?: number;
}
export type TablesSpec = Record<string, TableDeclaration<unknown>>;

/** What a handler reads from a reference table: the version valid at a time (e.g. the event's). */
export interface TableView<V> {
  get(key: string, atMs: number): V | undefined;
  /** Why `get(key, atMs)` finds nothing (unknown key, deleted, before the history kept); undefined on a hit. */
  explainMiss(key: string, atMs: number): TableMiss | undefined;
}

export interface ProcessorContext<
  O extends OutputsSpec,
  C,
  S extends StoresSpec = NoneDeclared,
  U extends OutcomesSpec = readonly [],
  R = undefined,
  B extends TablesSpec = NoneDeclared,
> {
  readonly config: C;
  readonly log: Logger;
  /** What the definition's `open` hook returned at start (undefined without one). */
  readonly resources: R;
  /** Queues an output record; it is written in the same transaction as this batch's input offsets. */
  emit<K extends keyof O & string>(
    output: K,
    key: string | Buffer | null,
    value: ValueOf<O[K]['value']>,
    options?: EmitOptions,
  ): void;
  /** Counts a declared outcome that produces no record (e.g. a dropped duplicate); shows in metrics. */
  readonly count: CountOutcome<U>;
  /** The current record's partition's view of a declared store; writes commit with the batch. */
  store<K extends keyof S & string>(name: K): StoreOf<S[K]>;
  /** A declared reference table. */
  table<K extends keyof B & string>(name: K): TableView<ValueOf<B[K]['value']>>;
  /**
   * The watermark of the partition being handled: its event-time progress minus the allowed lateness
   * (ms); -Infinity until known. Windows ending at or before it have closed. Needs `eventTime`.
   */
  readonly watermarkMs: number;
}

/**
 * How a processor's input progresses in event time (runtime/time; README "Event time and watermarks").
 * Records carrying `tributary-wm` headers (written by an upstream Tributary processor) progress by them;
 * records without one progress by their own event time, read here.
 */
export interface EventTimeDeclaration<I, O extends OutputsSpec, C> {
  /** An input record's event time (ms); also what the lateness histogram measures. */
  input?: (record: InputRecord<I>) => number;
  /**
   * For an input only the handler can read (bytes): the event time of what it emits, per output. A
   * record that emits nothing (a dead letter, a duplicate) does not move event time.
   */
  output?: { [K in keyof O]?: (value: ValueOf<O[K]['value']>) => number };
  /** The watermark trails progress by this much (ms); default 0. */
  allowedLatenessMs?: (config: C) => number;
  /** Wall-clock silence after which a source or partition no longer holds time back (ms); default 30 000. */
  idleTimeoutMs?: (config: C) => number;
}

export type ProcessorConfig<S extends ConfigShape> = RuntimeConfig & z.infer<z.ZodObject<S>>;

export interface ProcessorDefinition<
  I,
  O extends OutputsSpec,
  S extends ConfigShape,
  T extends StoresSpec = NoneDeclared,
  U extends OutcomesSpec = readonly [],
  R = undefined,
  B extends TablesSpec = NoneDeclared,
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
  /** Reference tables the handler reads (`ctx.table(name)`). */
  tables?: B;
  /** What the handler may `ctx.count`; anything else fails the typecheck. */
  outcomes?: U;
  /**
   * Loads start-time resources (a rules file, say) from the validated config, before the process
   * touches Kafka; the handler reads the result as `ctx.resources`. Throw a `ResourceError` naming the
   * file and what to fix: the process stops at start with exit 2.
   */
  open?: (config: ProcessorConfig<S>) => R | Promise<R>;
  handle(record: InputRecord<I>, ctx: ProcessorContext<O, ProcessorConfig<S>, T, U, R, B>): void;
  /** How event time is read; see EventTimeDeclaration. Needed by `onWatermark` and `ctx.watermarkMs`. */
  eventTime?: EventTimeDeclaration<I, O, ProcessorConfig<S>>;
  /**
   * A timer: called when a partition's watermark moves (after the record that moved it, or on a wall-clock
   * tick when the partition is idle), in the batch's transaction; `ctx.store` is that partition's. Its
   * watermark is persisted in the `watermarks` store's changelog, with the state.
   */
  onWatermark?: (
    partition: number,
    watermarkMs: number,
    ctx: ProcessorContext<O, ProcessorConfig<S>, T, U, R, B>,
  ) => void;
}

/** Identity function that gives a definition its types; the runtime runs it (`runProcessor`). */
export function defineProcessor<
  I,
  O extends OutputsSpec,
  S extends ConfigShape,
  T extends StoresSpec = NoneDeclared,
  const U extends OutcomesSpec = readonly [],
  R = undefined,
  B extends TablesSpec = NoneDeclared,
>(definition: ProcessorDefinition<I, O, S, T, U, R, B>): ProcessorDefinition<I, O, S, T, U, R, B> {
  return definition;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any definition, for code that runs them all
export type AnyProcessorDefinition = ProcessorDefinition<any, any, any, any, any, any, any>;

/** The outputs a definition declares, for typed harness results. */
export type OutputsOf<D> =
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- only O is of interest
  D extends ProcessorDefinition<any, infer O, any, any, any, any, any> ? O : never;
/** The reference tables a definition declares. */
export type TablesOf<D> =
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- only B is of interest
  D extends ProcessorDefinition<any, any, any, any, any, any, infer B> ? B : never;
