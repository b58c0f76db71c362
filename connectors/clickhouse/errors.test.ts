// How ClickHouse failures are classified: only a server that is down, unreachable or briefly refusing is
// retried; a row it can never hold is rejected; anything else (a client-side bug, a missing table, bad
// credentials) stops the sink instead of being retried forever.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ClickHouseLogLevel, createClient, parseError } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { isNetworkError, toSinkError } from './errors.ts';

/** What a ClickHouse server (or chdb) answers, parsed the way @clickhouse/client parses it. */
function serverError(code: number, type: string): Error {
  return parseError(`Code: ${code}. DB::Exception: something went wrong. (${type}) (version 25.8.1.1)`);
}

function errno(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
}

describe('toSinkError', () => {
  it.each([
    [252, 'TOO_MANY_PARTS'],
    [241, 'MEMORY_LIMIT_EXCEEDED'],
    [242, 'TABLE_IS_READ_ONLY'],
    [202, 'TOO_MANY_SIMULTANEOUS_QUERIES'],
    [159, 'TIMEOUT_EXCEEDED'],
    [243, 'NOT_ENOUGH_SPACE'],
  ])('retries a server refusing for now: %i %s', (code, type) => {
    const error = toSinkError(serverError(code, type), 'inserting');
    expect([error.code, error.retryable, error.context['clickhouseCode']]).toEqual([
      'TRIBUTARY_SINK_UNAVAILABLE',
      true,
      code,
    ]);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EAI_AGAIN'])(
    'retries a socket failure: %s',
    (code) => {
      const error = toSinkError(errno(code), 'inserting');
      expect([error.code, error.retryable]).toEqual(['TRIBUTARY_SINK_UNAVAILABLE', true]);
    },
  );

  it('finds a socket failure down the cause chain', () => {
    const wrapped = new Error('request failed', { cause: errno('ECONNRESET') });
    expect(isNetworkError(wrapped)).toBe(true);
    expect(toSinkError(wrapped, 'inserting').retryable).toBe(true);
  });

  it.each([
    [6, 'CANNOT_PARSE_TEXT'],
    [53, 'TYPE_MISMATCH'],
    [321, 'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE'],
    [469, 'VIOLATED_CONSTRAINT'],
  ])('rejects a row the table cannot hold: %i %s', (code, type) => {
    const error = toSinkError(serverError(code, type), 'inserting');
    expect([error.code, error.retryable]).toEqual(['TRIBUTARY_SINK_ROW_REJECTED', false]);
  });

  it.each([
    [60, 'UNKNOWN_TABLE'],
    [16, 'NO_SUCH_COLUMN_IN_TABLE'],
    [62, 'SYNTAX_ERROR'],
    [115, 'UNKNOWN_SETTING'],
    [516, 'AUTHENTICATION_FAILED'],
    [497, 'ACCESS_DENIED'],
    [164, 'READONLY'],
  ])('stops on a server error retrying cannot fix: %i %s', (code, type) => {
    const error = toSinkError(serverError(code, type), 'inserting');
    expect([error.code, error.retryable]).toEqual(['TRIBUTARY_SINK_WRITE_FAILED', false]);
  });

  // Regression: a client-side bug (here a TypeError) was classified UNAVAILABLE and retried forever.
  it('stops on a client-side bug instead of retrying it forever', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'length')");
    const error = toSinkError(bug, 'inserting 10 rows into requests');
    expect([error.code, error.retryable]).toEqual(['TRIBUTARY_SINK_WRITE_FAILED', false]);
    expect(error.cause).toBe(bug);
    expect(error.message).toMatch(/^inserting 10 rows into requests: /);
  });

  it('stops on a failure with no code to go by (e.g. a proxy page instead of a ClickHouse error)', () => {
    const error = toSinkError(parseError('<html>502 Bad Gateway</html>'), 'inserting');
    expect([error.code, error.retryable]).toEqual(['TRIBUTARY_SINK_WRITE_FAILED', false]);
  });

  it('retries what @clickhouse/client throws when nothing listens at CLICKHOUSE_URL', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = createClient({
      url: `http://127.0.0.1:${port}`,
      request_timeout: 5_000,
      log: { level: ClickHouseLogLevel.OFF },
    });
    try {
      const failure = await client.query({ query: 'SELECT 1' }).then(
        () => undefined,
        (error: unknown) => error,
      );
      const error = toSinkError(failure, 'reading stored offsets');
      expect([error.code, error.retryable]).toEqual(['TRIBUTARY_SINK_UNAVAILABLE', true]);
    } finally {
      await client.close();
    }
  });
});
