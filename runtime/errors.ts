// The one catalogue of error codes. Policy (dead-letter, retry, exit) is decided by code, never by message.

export const ERROR_CODES = {
  TRIBUTARY_CONFIG_INVALID: { retryable: false },
  TRIBUTARY_SERDE_BAD_MAGIC: { retryable: false },
  TRIBUTARY_SERDE_UNKNOWN_SCHEMA_ID: { retryable: false },
  TRIBUTARY_SERDE_TRUNCATED: { retryable: false },
  TRIBUTARY_SERDE_TRAILING_BYTES: { retryable: false },
  TRIBUTARY_SERDE_ENCODE_FAILED: { retryable: false },
  /** The Avro body does not decode under its writer schema (bad union/enum index, long beyond 2^53). */
  TRIBUTARY_SERDE_MALFORMED: { retryable: false },
  /** The record's writer schema (by id) is not Avro, or cannot be read as the reader's schema. */
  TRIBUTARY_SERDE_INCOMPATIBLE_WRITER: { retryable: false },
  TRIBUTARY_SCHEMA_INCOMPATIBLE: { retryable: false },
  TRIBUTARY_SCHEMA_INVALID: { retryable: false },
  /** A process may not register schemas (TRIBUTARY_REGISTRY_AUTO_REGISTER=false) and one is missing. */
  TRIBUTARY_SCHEMA_NOT_REGISTERED: { retryable: false },
  TRIBUTARY_REGISTRY_UNAVAILABLE: { retryable: true },
  TRIBUTARY_REGISTRY_REQUEST_FAILED: { retryable: false },
  /** The registry did not answer within the start deadline (TRIBUTARY_STARTUP_DEADLINE_MS). */
  TRIBUTARY_REGISTRY_UNREACHABLE: { retryable: false },
  /** The registry answered 401: no or wrong credentials (TRIBUTARY_REGISTRY_USERNAME / _PASSWORD). */
  TRIBUTARY_REGISTRY_AUTHENTICATION_FAILED: { retryable: false },
  /** The registry answered 403: the user may not do this (read a subject, register a schema). */
  TRIBUTARY_REGISTRY_NOT_AUTHORIZED: { retryable: false },
  /** The registry's certificate was refused (untrusted CA, wrong host name, expired). */
  TRIBUTARY_REGISTRY_TLS_FAILED: { retryable: false },
  /** librdkafka marks it retriable (a broker moving, a timeout): the batch is aborted and retried. */
  TRIBUTARY_KAFKA_TRANSIENT: { retryable: true },
  /** The transaction must be aborted (librdkafka's txn_requires_abort); the batch is retried after it. */
  TRIBUTARY_KAFKA_ABORTABLE: { retryable: true },
  /** A record larger than the producer's or the topic's message size limit: no retry ever fits it. */
  TRIBUTARY_KAFKA_RECORD_TOO_LARGE: { retryable: false },
  /** Retrying cannot help: authorization, invalid config or record, unsupported by the broker. */
  TRIBUTARY_KAFKA_PERMANENT: { retryable: false },
  /** The brokers' authorizer refuses this user a right it needs (an ACL): exit 2, the README lists them. */
  TRIBUTARY_KAFKA_NOT_AUTHORIZED: { retryable: false },
  /** No broker answered within the start deadline (TRIBUTARY_STARTUP_DEADLINE_MS). */
  TRIBUTARY_KAFKA_UNREACHABLE: { retryable: false },
  /** The brokers refuse this process's SASL login (wrong user, password or mechanism). */
  TRIBUTARY_KAFKA_AUTHENTICATION_FAILED: { retryable: false },
  /** The TLS handshake with the brokers fails (an untrusted certificate, a host name mismatch, not TLS). */
  TRIBUTARY_KAFKA_TLS_FAILED: { retryable: false },
  TRIBUTARY_KAFKA_FENCED: { retryable: false },
  TRIBUTARY_KAFKA_FATAL: { retryable: false },
  /**
   * A transaction call librdkafka never answered, long past its own timeout (librdkafka issue #5456):
   * the producer instance is abandoned and a new one with the same transactional id takes over.
   */
  TRIBUTARY_KAFKA_UNANSWERED: { retryable: true },
  /**
   * A transaction call kept failing retriably until the transaction was older than transaction.timeout.ms
   * (seen after a broker pause: its request never left librdkafka's queue for the coordinator). The
   * coordinator aborts such a transaction on its own, so resuming cannot help: a new producer instance
   * with the same transactional id takes over and the batch is rebuilt from what Kafka holds.
   */
  TRIBUTARY_KAFKA_TRANSACTION_EXPIRED: { retryable: true },
  TRIBUTARY_KAFKA_TOPIC_MISMATCH: { retryable: false },
  /** A topic the process reads (a reference table's) does not exist. */
  TRIBUTARY_KAFKA_TOPIC_MISSING: { retryable: false },
  /** The consumer could not be moved back to the committed offsets after an abort within the bound. */
  TRIBUTARY_KAFKA_REWIND_FAILED: { retryable: false },
  /** A batch was about to be consumed from a position past records no transaction committed (a bug). */
  TRIBUTARY_KAFKA_POSITION_UNCOMMITTED: { retryable: false },
  TRIBUTARY_RECORD_INVALID: { retryable: false },
  TRIBUTARY_STATE_RESTORE_FAILED: { retryable: true },
  /** A changelog record this store kind cannot have written (another store's topic, a foreign writer). */
  TRIBUTARY_STATE_CHANGELOG_CORRUPT: { retryable: false },
  /** A handler asked for a state store its definition does not declare (a bug in the processor). */
  TRIBUTARY_STATE_UNDECLARED: { retryable: false },
  TRIBUTARY_INSTANCE_LOCKED: { retryable: false },
  /** A `tributary-wm` header no Tributary writer produced: the record counts as one without a header. */
  TRIBUTARY_TIME_BAD_HEADER: { retryable: false },
  /** A persisted watermark record this runtime cannot read (another writer, a newer format). */
  TRIBUTARY_TIME_STATE_CORRUPT: { retryable: false },
  /** A processor's own declaration mistake (an undeclared output, store, table or outcome): exit 2. */
  TRIBUTARY_DEFINITION_INVALID: { retryable: false },
  /** A processor's `open` hook could not load a start-time resource (a rules file, say): exit 2. */
  TRIBUTARY_DEFINITION_OPEN_FAILED: { retryable: false },
  /** Another live copy (often on another host) runs with this copy's instance id: they would fence each other. */
  TRIBUTARY_INSTANCE_ID_IN_USE: { retryable: false },
  TRIBUTARY_SHUTDOWN_TIMEOUT: { retryable: false },
  /** A sink's store is down or refusing writes (backpressure): retry with backoff, partitions paused. */
  TRIBUTARY_SINK_UNAVAILABLE: { retryable: true },
  /** A sink's store can never hold this row (a value the column cannot hold): it is dead-lettered. */
  TRIBUTARY_SINK_ROW_REJECTED: { retryable: false },
  /** A sink's write failed in a way retrying cannot fix (a bug, a missing table, bad credentials): it stops. */
  TRIBUTARY_SINK_WRITE_FAILED: { retryable: false },
  /** A sink's commit failed and its transaction could not be aborted: it stops, its restart resumes. */
  TRIBUTARY_SINK_TRANSACTION_STUCK: { retryable: false },
  /** A reference table stopped before it was loaded (closed, or its topic could not be followed). */
  TRIBUTARY_TABLE_LOAD_FAILED: { retryable: false },
  /** A versioned ClickHouse migration failed; the sink stops at start. */
  TRIBUTARY_CLICKHOUSE_MIGRATION_FAILED: { retryable: false },
  /** Setting up a ClickHouse server's users failed (a bad database name or password, a refused statement). */
  TRIBUTARY_CLICKHOUSE_SETUP_FAILED: { retryable: false },
  /** The embedded ClickHouse data directory is owned by another live process. */
  TRIBUTARY_CLICKHOUSE_DATA_DIR_LOCKED: { retryable: false },
  /** The query endpoint refused a statement (writes, settings that lift read-only, several statements). */
  TRIBUTARY_CLICKHOUSE_QUERY_REFUSED: { retryable: false },
  /** The query endpoint would listen beyond loopback without a password: refused at start. */
  TRIBUTARY_CLICKHOUSE_QUERY_UNSAFE_BIND: { retryable: false },
  /** A query endpoint request with a wrong user or password, or from a browser page of another site. */
  TRIBUTARY_CLICKHOUSE_QUERY_UNAUTHORIZED: { retryable: false },
  /** A query endpoint request over one of its own limits (body size, concurrent queries). */
  TRIBUTARY_CLICKHOUSE_QUERY_LIMIT: { retryable: true },
  /** A query endpoint request asks for something it does not speak (ClickHouse block compression, a type in Native). */
  TRIBUTARY_CLICKHOUSE_QUERY_UNSUPPORTED: { retryable: false },
  /** A latency sketch given a value, quantile, accuracy or bucket arrays it cannot hold (a bug upstream). */
  TRIBUTARY_SKETCH_INVALID: { retryable: false },
  /** Two latency sketches of different relative accuracies cannot be merged. */
  TRIBUTARY_SKETCH_INCOMPATIBLE: { retryable: false },
  /** A window's stats were turned into a row before any request was added (a bug in the caller). */
  TRIBUTARY_STATS_EMPTY_WINDOW: { retryable: false },
  /** Thrown only by the test-only fault switch (runtime/testing/fault-points.ts): a transient failure. */
  /** Code that cannot happen did: a bug in Tributary, not in the data or the config. Never retried. */
  TRIBUTARY_INTERNAL_INVARIANT: { retryable: false },
  /** A bounded wait for the cluster (a group catching up, partitions read to their end) ran out. */
  TRIBUTARY_KAFKA_TIMED_OUT: { retryable: true },
  /** A target table is missing, lacks the sink's meta columns, or has a column type the sink cannot write. */
  TRIBUTARY_CLICKHOUSE_TABLE_INVALID: { retryable: false },
  /** The TLS handshake with the ClickHouse server fails (an untrusted certificate, a host name mismatch). */
  TRIBUTARY_CLICKHOUSE_TLS_FAILED: { retryable: false },
  /** The ClickHouse server refuses the sink's user or password. */
  TRIBUTARY_CLICKHOUSE_AUTHENTICATION_FAILED: { retryable: false },
  /** The query endpoint cannot listen on its host and port (in use, not allowed). */
  TRIBUTARY_CLICKHOUSE_QUERY_PORT_UNAVAILABLE: { retryable: false },
  TRIBUTARY_TEST_FAULT_INJECTED: { retryable: true },
} as const satisfies Record<string, { retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface TributaryErrorOptions {
  cause?: unknown;
  context?: Record<string, unknown>;
  /** Overrides the catalogue's default, e.g. a Kafka error librdkafka itself marks retriable. */
  retryable?: boolean;
}

export class TributaryError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: TributaryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.context = options.context ?? {};
  }
}

export class ConfigError extends TributaryError {
  constructor(
    message: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super('TRIBUTARY_CONFIG_INVALID', message, { context: { issues } });
  }
}

export interface ConfigIssue {
  key: string;
  envVar: string;
  problem: string;
  fix: string;
}

export type SerdeErrorCode = Extract<ErrorCode, `TRIBUTARY_SERDE_${string}`>;

export class SerdeError extends TributaryError {
  constructor(code: SerdeErrorCode, message: string, options: TributaryErrorOptions = {}) {
    super(code, message, options);
  }
}

export class SchemaIncompatibleError extends TributaryError {
  constructor(
    readonly subject: string,
    readonly againstVersions: readonly number[],
    readonly problems: readonly string[],
  ) {
    super(
      'TRIBUTARY_SCHEMA_INCOMPATIBLE',
      `schema for subject "${subject}" is not BACKWARD_TRANSITIVE compatible with version(s) ${againstVersions.join(', ')}: ${problems.join('; ')}`,
      { context: { subject, againstVersions, problems } },
    );
  }
}

/**
 * A record the handler cannot accept. The runtime turns it into a dead letter carrying `reason`
 * (a machine-readable code from the processor's closed set) and `detail` (for a human).
 */
export class ValidationError extends TributaryError {
  constructor(
    readonly reason: string,
    readonly detail: string,
  ) {
    super('TRIBUTARY_RECORD_INVALID', `${reason}: ${detail}`, { context: { reason } });
  }
}

export type DefinitionErrorCode = Extract<ErrorCode, `TRIBUTARY_DEFINITION_${string}`>;

/** A processor that cannot run as written or configured: the process stops at start with exit 2. */
export class DefinitionError extends TributaryError {
  constructor(code: DefinitionErrorCode, message: string, options: TributaryErrorOptions = {}) {
    super(code, message, options);
  }
}

/** What an `open` hook throws: which resource (a file path, say), what is wrong, and what to do. */
export class ResourceError extends DefinitionError {
  constructor(
    readonly resource: string,
    readonly problem: string,
    readonly fix: string,
    options: { cause?: unknown } = {},
  ) {
    super('TRIBUTARY_DEFINITION_OPEN_FAILED', `${resource}: ${problem}; ${fix}`, {
      ...options,
      context: { resource, problem, fix },
    });
  }
}

export function isTributaryError(error: unknown): error is TributaryError {
  return error instanceof TributaryError;
}

export function isRetryable(error: unknown): boolean {
  return isTributaryError(error) && error.retryable;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
