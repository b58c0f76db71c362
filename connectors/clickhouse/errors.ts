// ClickHouse failures mapped onto the sink's two outcomes: a row the table can never hold (dead-letter
// it) or a store that is down or refusing (retry with backoff, consumption paused). Classified by the
// server's numeric error code, never by message text.
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
  return new TributaryError('TRIBUTARY_SINK_UNAVAILABLE', message, { cause: error, context });
}
