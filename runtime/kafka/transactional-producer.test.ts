import { describe, expect, it } from 'vitest';
import { ERR, call } from './librdkafka.ts';
import { TributaryError } from '../errors.ts';
import { clientError } from '../testing/client-errors.ts';
import {
  producerInstanceFailed,
  replaceableAfterFailedAbort,
  transactionFailure,
} from './transactional-producer.ts';

/** A failed call as the binding reports it (code and the rd_kafka_error_t flags), classified by `call`. */
async function failedCall(
  code: number,
  flags: { isFatal?: boolean; isRetriable?: boolean; isTxnRequiresAbort?: boolean },
): Promise<unknown> {
  return call('commitTransaction', (done) => done(clientError(code, flags))).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('transactionFailure (librdkafka transactional API contract)', () => {
  it('resumes a retriable failure, e.g. a commit timing out against a stopped broker', async () => {
    expect(transactionFailure(await failedCall(ERR.ERR__TIMED_OUT, { isRetriable: true }))).toBe('retriable');
  });

  it('aborts on txn_requires_abort, even when the error is also marked retriable', async () => {
    const error = await failedCall(ERR.ERR_INVALID_TXN_STATE, {
      isTxnRequiresAbort: true,
      isRetriable: true,
    });
    expect(transactionFailure(error)).toBe('abortable');
  });

  // Regression (CI simulation, aggregate-event-time): a produce of the batch failed with
  // OUT_OF_ORDER_SEQUENCE_NUMBER (requires epoch bump) while sendOffsets was under way; librdkafka then
  // answered sendOffsets with ERR__STATE flagged requires-abort, and the copy stopped as if fatal.
  it('aborts on ERR__STATE flagged requires-abort: the transaction failed under the call', async () => {
    expect(transactionFailure(await failedCall(ERR.ERR__STATE, { isTxnRequiresAbort: true }))).toBe(
      'abortable',
    );
  });

  it('stops on fatal and fenced errors, and on errors that carry no transactional flag', async () => {
    expect(transactionFailure(await failedCall(ERR.ERR__FATAL, { isFatal: true }))).toBe('fatal');
    expect(transactionFailure(await failedCall(ERR.ERR_PRODUCER_FENCED, { isRetriable: true }))).toBe(
      'fatal',
    );
    expect(transactionFailure(await failedCall(ERR.ERR__STATE, {}))).toBe('fatal');
    // What abort answered on main while a commit was still the call to resume: retrying it never ends.
    expect(transactionFailure(await failedCall(ERR.ERR__CONFLICT, { isRetriable: true }))).toBe('fatal');
    expect(transactionFailure(new TypeError('not a client error'))).toBe('fatal');
  });
});

describe('producerInstanceFailed: when the processor replaces its producer instead of stopping', () => {
  it('replaces an instance librdkafka marked fatal itself (abort answered INVALID_TXN_STATE after a broker restart)', async () => {
    const error = await failedCall(ERR.ERR_INVALID_TXN_STATE, { isFatal: true });
    expect(producerInstanceFailed(error)).toBe(true);
  });

  it('never replaces a fenced instance (another live copy owns the id), nor on a broken call sequence', async () => {
    expect(producerInstanceFailed(await failedCall(ERR.ERR_PRODUCER_FENCED, { isFatal: true }))).toBe(false);
    expect(producerInstanceFailed(await failedCall(ERR.ERR__STATE, {}))).toBe(false);
    expect(producerInstanceFailed(await failedCall(ERR.ERR__TIMED_OUT, { isRetriable: true }))).toBe(false);
    expect(producerInstanceFailed(new TypeError('not a client error'))).toBe(false);
  });
});

describe('replaceableAfterFailedAbort: a failed abort replaces the producer or stops the copy', () => {
  const timedOut = new TributaryError(
    'TRIBUTARY_KAFKA_ABORTABLE',
    'commitTransaction: 12 message(s) timed out (requires epoch bump)',
  );

  it('replaces after an abort fenced by the coordinator, once the batch had failed without a fence past the transaction timeout', async () => {
    const fencedAbort = await failedCall(ERR.ERR__FENCED, { isFatal: true });
    expect(replaceableAfterFailedAbort(fencedAbort, timedOut, true)).toBe(true);
    const retriable = await failedCall(ERR.ERR__TIMED_OUT, { isRetriable: true });
    expect(replaceableAfterFailedAbort(fencedAbort, retriable, true)).toBe(true);
  });

  // Regression (CI, "stops a zombie copy"): the replacement's join failed the copy's send of offsets
  // abortably (ILLEGAL_GENERATION) and its start fenced the abort. The coordinator never times out a young
  // transaction, so that fence is a twin's: replacing the producer fenced the replacement back.
  it('stops when the abort of a young transaction is fenced: only a twin fences a transaction within its timeout', async () => {
    const fencedAbort = await failedCall(ERR.ERR__FENCED, { isFatal: true });
    const illegalGeneration = await failedCall(ERR.ERR_ILLEGAL_GENERATION, { isTxnRequiresAbort: true });
    expect(replaceableAfterFailedAbort(fencedAbort, illegalGeneration, false)).toBe(false);
    expect(replaceableAfterFailedAbort(fencedAbort, timedOut, false)).toBe(false);
  });

  it('replaces after an abort resumed past the transaction timeout (the coordinator aborts it itself)', () => {
    const expiredAbort = new TributaryError(
      'TRIBUTARY_KAFKA_TRANSACTION_EXPIRED',
      'abortTransaction failed retriably with the transaction open 31000 ms, past transaction.timeout.ms',
    );
    expect(replaceableAfterFailedAbort(expiredAbort, timedOut, true)).toBe(true);
  });

  it('replaces an instance that failed on its own during the abort, as before', async () => {
    const fatalAbort = await failedCall(ERR.ERR_INVALID_TXN_STATE, { isFatal: true });
    expect(replaceableAfterFailedAbort(fatalAbort, timedOut, true)).toBe(true);
  });

  it('stops when the batch itself was fenced (a twin) or failed fatally (the commit outcome is unknown)', async () => {
    const fencedAbort = await failedCall(ERR.ERR__FENCED, { isFatal: true });
    const fencedBatch = await failedCall(ERR.ERR_PRODUCER_FENCED, { isFatal: true });
    expect(replaceableAfterFailedAbort(fencedAbort, fencedBatch, true)).toBe(false);
    const fatalCommit = await failedCall(ERR.ERR_INVALID_TXN_STATE, { isFatal: true });
    expect(replaceableAfterFailedAbort(fencedAbort, fatalCommit, true)).toBe(false);
    expect(replaceableAfterFailedAbort(fencedAbort, new TypeError('a bug'), true)).toBe(false);
    const brokenSequence = await failedCall(ERR.ERR__STATE, {});
    expect(replaceableAfterFailedAbort(brokenSequence, timedOut, true)).toBe(false);
  });

  it('stops when a twin fenced the producer before the batch: produce fails with a bare local fatal error', async () => {
    // What the zombie test saw: a twin's init fenced this producer, produce() then failed with
    // "Local: Fatal error" (no flags) and the abort as fenced. Replacing fenced the twin back, and the two
    // copies went on fencing each other for good.
    const fencedAbort = await failedCall(ERR.ERR__FENCED, { isFatal: true });
    const fatalProduce = await failedCall(ERR.ERR__FATAL, {});
    expect(fatalProduce).toMatchObject({ code: 'TRIBUTARY_KAFKA_FATAL' });
    expect(replaceableAfterFailedAbort(fencedAbort, fatalProduce, true)).toBe(false);
  });
});
