// The query endpoint's bounds. Time, memory and result size are the engine's own settings, so a query
// over one fails with ClickHouse's code (159 TIMEOUT_EXCEEDED, 241 MEMORY_LIMIT_EXCEEDED, 396
// TOO_MANY_ROWS_OR_BYTES); concurrency and body size are the endpoint's, answered with 202
// TOO_MANY_SIMULTANEOUS_QUERIES and 393 QUERY_IS_TOO_LARGE.
import { TributaryError } from '../../../runtime/index.ts';

export interface QueryLimits {
  /** Longest a query runs, in seconds (max_execution_time). */
  maxExecutionTimeS: number;
  /** Memory one query may use, in bytes (max_memory_usage). */
  maxMemoryBytes: number;
  /** Rows in one result (max_result_rows). */
  maxResultRows: number;
  /** Uncompressed bytes in one result (max_result_bytes). */
  maxResultBytes: number;
  /** Threads one query may use (max_threads): the sink's writer keeps the rest of the machine. */
  maxThreads: number;
  /** Queries running at once; more are refused at once. */
  maxConcurrentQueries: number;
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxExecutionTimeS: 30,
  maxMemoryBytes: 1 << 30,
  maxResultRows: 1_000_000,
  maxResultBytes: 128 << 20,
  maxThreads: 2,
  maxConcurrentQueries: 4,
  maxBodyBytes: 1 << 20,
};

/** The engine settings that carry the limits, each with its cap. */
export function limitSettings(limits: QueryLimits): Array<[string, number]> {
  return [
    ['max_execution_time', limits.maxExecutionTimeS],
    ['max_memory_usage', limits.maxMemoryBytes],
    ['max_result_rows', limits.maxResultRows],
    ['max_result_bytes', limits.maxResultBytes],
    ['max_threads', limits.maxThreads],
  ];
}

export function overLimit(message: string, clickhouseCode: number): TributaryError {
  return new TributaryError('TRIBUTARY_CLICKHOUSE_QUERY_LIMIT', message, { context: { clickhouseCode } });
}

/** Counts queries in flight; `enter` refuses past the cap instead of queueing (a client retries). */
export class ConcurrencyGate {
  private running = 0;
  constructor(private readonly max: number) {}

  enter(): () => void {
    if (this.running >= this.max) throw overLimit(`too many simultaneous queries: maximum ${this.max}`, 202);
    this.running++;
    let left = false;
    return () => {
      if (!left) this.running--;
      left = true;
    };
  }
}
