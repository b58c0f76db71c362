// Regression (issue 9, finding 10): every non-fatal client error used to be TRANSIENT, so a permanent one
// (a record over the size limit, an authorization failure) aborted and retried the batch forever.
import { describe, expect, it } from 'vitest';
import { ERR, kafkaErrorCode, toTributaryError } from './librdkafka.ts';
import { EXIT_BAD_CONFIG, exitCodeFor } from '../app/host/process-lifecycle.ts';
import { clientError } from '../testing/client-errors.ts';

describe('client errors classified by librdkafka code', () => {
  it('makes a record too large for the broker or the client permanent, even when the transaction asks for an abort', () => {
    for (const code of [ERR.ERR_MSG_SIZE_TOO_LARGE, ERR.ERR_RECORD_LIST_TOO_LARGE]) {
      const error = toTributaryError(clientError(code, { isTxnRequiresAbort: true }), 'commitTransaction');
      expect(error.code).toBe('TRIBUTARY_KAFKA_RECORD_TOO_LARGE');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('can never be written');
    }
  });

  it('makes a refused right not-authorized (exit 2), never retried', () => {
    const refused = [
      ERR.ERR_TOPIC_AUTHORIZATION_FAILED,
      ERR.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      ERR.ERR_GROUP_AUTHORIZATION_FAILED,
      ERR.ERR_CLUSTER_AUTHORIZATION_FAILED,
    ];
    for (const code of refused) {
      const error = toTributaryError(clientError(code, { isRetriable: false }), 'produce');
      expect([code, error.code, error.retryable]).toEqual([code, 'TRIBUTARY_KAFKA_NOT_AUTHORIZED', false]);
      expect(exitCodeFor(error)).toBe(EXIT_BAD_CONFIG);
    }
  });

  it('makes invalid records, bad topic names and config permanent', () => {
    const permanent = [
      ERR.ERR_INVALID_RECORD,
      ERR.ERR_TOPIC_EXCEPTION,
      ERR.ERR_INVALID_CONFIG,
      ERR.ERR__AUTHENTICATION,
    ];
    for (const code of permanent) {
      const error = toTributaryError(clientError(code, { isRetriable: false }), 'produce');
      expect([code, error.code, error.retryable]).toEqual([code, 'TRIBUTARY_KAFKA_PERMANENT', false]);
    }
  });

  it('keeps fencing first, then fatal, then abortable, then retriable', () => {
    expect(kafkaErrorCode(ERR.ERR_PRODUCER_FENCED, { isFatal: true })).toBe('TRIBUTARY_KAFKA_FENCED');
    expect(kafkaErrorCode(ERR.ERR__FATAL, { isFatal: true })).toBe('TRIBUTARY_KAFKA_FATAL');
    expect(kafkaErrorCode(ERR.ERR__STATE, { isTxnRequiresAbort: true })).toBe('TRIBUTARY_KAFKA_ABORTABLE');
    expect(kafkaErrorCode(ERR.ERR__STATE, { abortable: true })).toBe('TRIBUTARY_KAFKA_ABORTABLE');
    expect(kafkaErrorCode(ERR.ERR__TRANSPORT, { isRetriable: true })).toBe('TRIBUTARY_KAFKA_TRANSIENT');
    expect(kafkaErrorCode(ERR.ERR__TIMED_OUT, {})).toBe('TRIBUTARY_KAFKA_TRANSIENT');
    const abortable = toTributaryError(clientError(ERR.ERR__STATE, { isTxnRequiresAbort: true }), 'commit');
    expect(abortable.retryable).toBe(true);
  });

  it('treats a throw that is not a client error as fatal', () => {
    expect(toTributaryError(new Error('no code'), 'produce').code).toBe('TRIBUTARY_KAFKA_FATAL');
  });
});

describe('authorization failures', () => {
  it('name the right the Kafka user lacks (issue 17)', () => {
    const refused = toTributaryError(
      clientError(ERR.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
      'initTransactions',
    );
    expect(refused.code).toBe('TRIBUTARY_KAFKA_NOT_AUTHORIZED');
    expect(refused.message).toMatch(/not authorized.*WRITE.*TransactionalId/);
    const group = toTributaryError(clientError(ERR.ERR_GROUP_AUTHORIZATION_FAILED), 'join');
    expect(group.message).toMatch(/not authorized.*READ.*consumer group/);
  });
});
