import { describe, expect, it } from 'vitest';
import { TributaryError, ValidationError } from '../../errors.ts';
import { recoveryFor } from './transaction-loop.ts';

describe('recoveryFor', () => {
  it('retries after a backoff what the catalogue calls retryable, abortable transactions included', () => {
    for (const code of [
      'TRIBUTARY_KAFKA_TRANSIENT',
      'TRIBUTARY_KAFKA_ABORTABLE',
      'TRIBUTARY_REGISTRY_UNAVAILABLE',
    ] as const)
      expect(recoveryFor(new TributaryError(code, 'x'))).toBe('back-off-and-rewind');
  });

  it('stops on fenced, fatal, a failed rewind, a consume past uncommitted records and anything unknown', () => {
    for (const code of [
      'TRIBUTARY_KAFKA_FENCED',
      'TRIBUTARY_KAFKA_FATAL',
      'TRIBUTARY_KAFKA_REWIND_FAILED',
      'TRIBUTARY_KAFKA_POSITION_UNCOMMITTED',
    ] as const)
      expect(recoveryFor(new TributaryError(code, 'x'))).toBe('stop');
    expect(recoveryFor(new ValidationError('bad', 'record'))).toBe('stop');
    expect(recoveryFor(new TypeError('a bug'))).toBe('stop');
  });
});
