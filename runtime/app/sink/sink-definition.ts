// What a sink declares: bindings from topics to targets (tables), its dead-letter topics, its config,
// and how to open its connector. The runtime owns the consumer, batching, retries, dead letters and
// offsets (sink-loop.ts); a connector only knows its store.
import { z } from 'zod';
import type { ConfigShape, RuntimeConfig } from '../../config/index.ts';
import type { Logger } from '../../observability/index.ts';
import type { HealthStatus } from '../../observability/index.ts';
import type { Registry } from 'prom-client';
import type { ValueCodec } from '../processor/definition.ts';
import type { LedgerEntry, StoredPartition } from './sink-resume.ts';

export interface SinkBinding {
  /** Logical topic name, e.g. `requests.valid`; prefixed with `topicPrefix`. */
  topic: string;
  /** How the topic's values are encoded (Avro by record name). */
  value: ValueCodec<unknown>;
  /** Where its rows go, e.g. a table name. Several topics may share one target. */
  target: string;
  /** Dead-letter topic for its rows the store can never hold; default the sink's `deadLetter`. */
  deadLetter?: string;
}

/** One source record decoded and ready for the connector to turn into a row. */
export interface SinkRecord {
  binding: SinkBinding;
  /** Physical topic name (with prefix): what rows carry in `_topic`. */
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  value: Record<string, unknown>;
}

/**
 * A row of one target, already checked against the target's columns (its `encode` output). `data` is
 * the connector's own encoded form: opaque to the runtime, which only batches rows by source offset.
 */
export interface SinkRow<Encoded = unknown> {
  topic: string;
  partition: number;
  offset: number;
  data: Encoded;
}

export interface SinkWriteRequest<Encoded = unknown> {
  target: string;
  rows: readonly SinkRow<Encoded>[];
  /** Deterministic per (topic, partition, offset range) of `rows`: the store's deduplication token. */
  dedupToken: string;
}

/** A source partition and the target its topic writes, with Kafka's committed offset (negative: none). */
export interface SinkPartition {
  topic: string;
  partition: number;
  target: string;
  committed: number;
}

/**
 * The store side of a sink. Throws TributaryError: SINK_UNAVAILABLE (retry) or SINK_ROW_REJECTED.
 * Every batch is recorded in the store's write ledger before (intent) and after (done) its rows are
 * written, so a restart knows exactly which rows of a partially landed insert are missing.
 */
export interface SinkConnector<Encoded = unknown> {
  /**
   * True when this process is the store's only writer (an embedded store under a directory lock). A flush
   * then writes each target in one insert across its source partitions, and an insert left unfinished is
   * completed by writing only the rows the store lacks: no other writer can still land it. Otherwise each
   * source partition is its own insert, which a later owner repeats as it was (sink-resume.ts).
   */
  readonly singleWriter?: boolean;
  /** What the store holds per source partition (key `topic/partition`): its ledger and target table. */
  storedPartitions(partitions: readonly SinkPartition[]): Promise<Map<string, StoredPartition>>;
  /** Records batches in the ledger, all of them or none. */
  recordBatches(state: 'intent' | 'done', writer: string, entries: readonly LedgerEntry[]): Promise<void>;
  /** Makes `writer` the owner of the partitions; returns once no earlier owner's write can still land. */
  claim(writer: string, partitions: readonly SinkPartition[]): Promise<void>;
  /** True while `writer` holds the latest claim on every one of the partitions. */
  holdsClaims(writer: string, partitions: readonly SinkPartition[]): Promise<boolean>;
  /** Turns a record into its row; throws ValidationError for a value the target can never hold. */
  encode(record: SinkRecord): SinkRow<Encoded>;
  /** Writes the rows in one request, awaited; never abandons a write that may still land. */
  write(request: SinkWriteRequest<Encoded>): Promise<void>;
  /** Optional extra readiness (e.g. a query endpoint); the runner adds its own. */
  ready?(): HealthStatus;
  close(): Promise<void>;
}

export interface SinkOpenContext<C> {
  config: C;
  log: Logger;
  /** The process's metrics registry, for connector-specific metrics. */
  metrics: Registry;
  /**
   * The partitions' records below their committed offsets, decoded as the loop decodes them (records
   * that cannot be decoded are left out: they were dead-lettered). For a connector that keeps in-memory
   * state about what it already wrote and rebuilds it in storedPartitions() on every assignment; it
   * reads each partition from its beginning, so only for small topics.
   */
  readCommitted: (partitions: readonly SinkPartition[]) => Promise<SinkRecord[]>;
}

export type SinkConfig<S extends ConfigShape> = RuntimeConfig &
  z.infer<z.ZodObject<typeof sinkConfigShape>> &
  z.infer<z.ZodObject<S>>;

export interface SinkDefinition<S extends ConfigShape> {
  /** Also the consumer group and the transactional-id prefix. */
  name: string;
  description: string;
  bindings: readonly SinkBinding[];
  /** Default dead-letter topic for rows that can never be stored (Avro `DeadLetter`). */
  deadLetter: string;
  config: S;
  open(ctx: SinkOpenContext<SinkConfig<S>>): Promise<SinkConnector>;
}

/** Identity function that gives a sink definition its types; the runtime runs it (`runSink`). */
export function defineSink<S extends ConfigShape>(definition: SinkDefinition<S>): SinkDefinition<S> {
  return definition;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any sink, for code that runs them all
export type AnySinkDefinition = SinkDefinition<any>;

/** Batching keys every sink shares: a batch is flushed when any limit is reached. */
export const sinkConfigShape = {
  sinkSkipTopics: z
    .string()
    .default('')
    .describe(
      "comma-separated logical topics of the sink's bindings this copy does not read, e.g. requests.valid when enrich runs, so requests holds each event once",
    ),
  maxBatchRows: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(50_000)
    .describe(
      'most rows per flush (embedded: one insert per target; server: one per target and source partition)',
    ),
  maxBatchBytes: z
    .number()
    .int()
    .min(1024)
    .default(32 * 1024 * 1024)
    .describe('most source value bytes per flush, in bytes'),
  flushIntervalMs: z
    .number()
    .int()
    .min(1)
    .max(600_000)
    .default(500)
    .describe('longest time a consumed record waits before its batch is flushed, in ms'),
  maxRetryBackoffMs: z
    .number()
    .int()
    .min(10)
    .default(10_000)
    .describe('longest pause between retries of a write the store refused, in ms'),
  sinkLivenessStallMs: z
    .number()
    .int()
    .min(1000)
    .default(180_000)
    .describe(
      '/healthz goes false when the loop has neither committed nor been idle with no lag for this long, in ms',
    ),
};
