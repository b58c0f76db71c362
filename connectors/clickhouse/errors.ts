// ClickHouse failures mapped onto the sink's three outcomes: a row the table can never hold (dead-letter
// it), a store that is down or refusing for now (retry with backoff, consumption paused), or anything
// else (stop: a bug, a missing table or column, bad credentials are not fixed by retrying). Classified by
// the server's numeric error code or the socket's errno, never by message text.
import { TributaryError, describeError } from '../../runtime/index.ts';

/** Codes that mean "this data does not fit the table": parse errors, out-of-range values, bad types. */
const DATA_ERROR_CODES = new Set([
  6, // CANNOT_PARSE_TEXT
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  32, // ATTEMPT_TO_READ_AFTER_EOF
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  131, // TOO_LARGE_STRING_SIZE
  321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  349, // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
  377, // CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING
  407, // DECIMAL_OVERFLOW
  469, // VIOLATED_CONSTRAINT: a CHECK constraint of the table refuses the row's values
]);

/** Codes of a server that is overloaded, restarting, out of resources or briefly refusing inserts. */
const TRANSIENT_CODES = new Set([
  95, // CANNOT_READ_FROM_SOCKET
  96, // CANNOT_WRITE_TO_SOCKET
  159, // TIMEOUT_EXCEEDED
  173, // CANNOT_ALLOCATE_MEMORY
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  236, // ABORTED
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY
  243, // NOT_ENOUGH_SPACE
  244, // UNEXPECTED_ZOOKEEPER_ERROR
  252, // TOO_MANY_PARTS
  279, // ALL_CONNECTION_TRIES_FAILED
  285, // TOO_FEW_LIVE_REPLICAS
  289, // REPLICA_IS_NOT_IN_QUORUM
  319, // UNKNOWN_STATUS_OF_INSERT
  394, // QUERY_WAS_CANCELLED
  415, // ALL_REPLICAS_LOST
  425, // SYSTEM_ERROR
  439, // CANNOT_SCHEDULE_TASK
  473, // DEADLOCK_AVOIDED
  745, // SERVER_OVERLOADED
  999, // KEEPER_EXCEPTION
  1000, // POCO_EXCEPTION
]);

/** Socket errors (Node's errno codes, undici's): the server is down, restarting or unreachable. */
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** The numeric ClickHouse code of an error from @clickhouse/client (HTTP or chdb), if it has one. */
export function clickhouseCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const value = typeof code === 'string' ? Number(code) : typeof code === 'number' ? code : NaN;
  return Number.isInteger(value) ? value : undefined;
}

export function toSinkError(error: unknown, operation: string): TributaryError {
  const code = clickhouseCode(error);
  const message = `${operation}: ${describeError(error)}`.slice(0, 2000);
  const context = { operation, clickhouseCode: code };
  if (code !== undefined && DATA_ERROR_CODES.has(code))
    return new TributaryError('TRIBUTARY_SINK_ROW_REJECTED', message, { cause: error, context });
  if ((code !== undefined && TRANSIENT_CODES.has(code)) || isNetworkError(error))
    return new TributaryError('TRIBUTARY_SINK_UNAVAILABLE', message, { cause: error, context });
  // A client-side bug, a query the server cannot run, a missing table, bad credentials, or an HTTP
  // failure that is not ClickHouse's (no code to go by): retrying the same request cannot fix it.
  return new TributaryError('TRIBUTARY_SINK_WRITE_FAILED', message, { cause: error, context });
}

/** A socket-level failure, on the error itself or anywhere down its `cause` chain. */
export function isNetworkError(error: unknown): boolean {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_ERRORS.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
