// Promise API over a transactional librdkafka producer: begin, produce, send offsets, commit or abort,
// following librdkafka's transactional API contract (rdkafka.h, rd_kafka_commit_transaction and friends).
import type { Logger } from '../observability/index.ts';
import { TributaryError } from '../errors.ts';
import type { MessageHeader, RdKafkaConsumer, RdKafkaProducer, TopicPartitionOffset } from './librdkafka.ts';
import { ERR, Producer, call, toTributaryError } from './librdkafka.ts';
import { nextBackoffMs, sleep } from './backoff.ts';
import type { ProducerSettings } from './client-config.ts';
import { DEFAULT_TRANSACTION_TIMEOUT_MS, producerConfig } from './client-config.ts';

export interface OutgoingMessage {
  topic: string;
  /** Explicit partition (changelogs follow their input partition); unset: by key. */
  partition?: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp?: number;
  headers?: MessageHeader[];
}

export interface TransactionalProducerOptions {
  log?: Logger;
  /** How long one librdkafka transaction call may wait for the broker before it is resumed. Default 60 000. */
  operationTimeoutMs?: number;
  /**
   * How long a transaction call may go unanswered before the instance counts as stuck and is replaced.
   * librdkafka answers within operationTimeoutMs except where it has a bug (issue #5456: a send of
   * offsets retried without end after a broker pause). Default operationTimeoutMs + 15 000.
   */
  unansweredAfterMs?: number;
}

const MAX_RESUME_BACKOFF_MS = 5_000;
const UNANSWERED_MARGIN_MS = 15_000;

/** Overdue transaction calls still inside librdkafka, each holding a libuv threadpool thread. */
let overdueCallsRunning = 0;

/** How many transaction calls went unanswered and have not returned since (0 in a healthy process). */
export function nativeCallsStillRunning(): number {
  return overdueCallsRunning;
}

/** What librdkafka says a failed transaction call leaves behind. */
export type TransactionFailure = 'retriable' | 'abortable' | 'fatal';

/**
 * One Kafka transaction at a time. The contract callers rely on (the processor loop and the sink):
 * - `begin()` throws only fatal errors.
 * - `sendOffsets()` and `commit()` resume a retriable failure themselves (a timeout, a coordinator moving):
 *   librdkafka keeps that call as the one to resume, and abort or begin would answer ERR__CONFLICT. So they
 *   throw only `TRIBUTARY_KAFKA_ABORTABLE` (call `abort()`, then retry the batch in a new transaction)
 *   or a fatal error (`TRIBUTARY_KAFKA_FENCED`, `TRIBUTARY_KAFKA_FATAL`: the producer is unusable, stop).
 *   While a commit is resumed the call does not return, at most until the transaction expires (below).
 * - `abort()` resumes retriable failures too and throws only fatal errors.
 * - None of them resumes past the transaction's expiry (transaction.timeout.ms after `begin()`): they throw
 *   `TRIBUTARY_KAFKA_TRANSACTION_EXPIRED` instead, and the caller replaces the instance.
 * - `produce()` only enqueues; a failed delivery surfaces as an abortable `commit()`.
 */
export class TransactionalProducer {
  private producer: RdKafkaProducer;
  private readonly log: Logger | undefined;
  private readonly operationTimeoutMs: number;
  private readonly unansweredAfterMs: number;
  /** A native call on the current instance never answered: it is still inside librdkafka. */
  private instanceStuck = false;
  private inTransaction = false;
  /** When the open transaction began (Date.now()). */
  private beganAt = 0;

  constructor(
    private readonly settings: ProducerSettings & { transactionalId: string },
    options: TransactionalProducerOptions = {},
  ) {
    this.producer = this.createInstance();
    this.log = options.log;
    this.operationTimeoutMs = options.operationTimeoutMs ?? 60_000;
    this.unansweredAfterMs = options.unansweredAfterMs ?? this.operationTimeoutMs + UNANSWERED_MARGIN_MS;
  }

  /** A new librdkafka instance with this producer's settings (a seam for tests of a stuck instance). */
  protected createInstance(): RdKafkaProducer {
    return new Producer(producerConfig(this.settings));
  }

  get transactionOpen(): boolean {
    return this.inTransaction;
  }

  async connect(): Promise<void> {
    await call('producer connect', (done) => this.producer.connect({}, (error) => done(error)));
    this.producer.setPollInBackground(true);
    // Fences any older producer with our transactional id and aborts its dangling transaction.
    await call('initTransactions', (done) => this.producer.initTransactions(this.operationTimeoutMs, done));
  }

  async begin(): Promise<void> {
    try {
      await call('beginTransaction', (done) => this.producer.beginTransaction(done));
    } catch (error) {
      throw asFatal(error, 'beginTransaction');
    }
    this.inTransaction = true;
    this.beganAt = Date.now();
  }

  /**
   * Whether `error` is the coordinator's own fence, not a twin's: the call failed as fenced while the
   * transaction had been open longer than transaction.timeout.ms (a broker away for longer than that),
   * so the coordinator aborted it on its timeout and bumped the epoch. A twin fences a young one. The
   * caller replaces the producer and rebuilds from what Kafka (or the store) holds, which is right
   * whichever way the transaction ended.
   */
  fencedByTimeout(error: unknown): boolean {
    if (!(error instanceof TributaryError) || error.code !== 'TRIBUTARY_KAFKA_FENCED') return false;
    return this.transactionExpired();
  }

  /** The open transaction is older than transaction.timeout.ms: the coordinator aborts it on its own. */
  private transactionExpired(): boolean {
    return this.inTransaction && Date.now() - this.beganAt > this.transactionTimeoutMs();
  }

  private transactionTimeoutMs(): number {
    return this.settings.transactionTimeoutMs ?? DEFAULT_TRANSACTION_TIMEOUT_MS;
  }

  /**
   * Whether the caller must replace this instance (`replaceAfterFatal()`) and rebuild from what Kafka
   * (or the store) holds, since the transaction's outcome is unknown here: the coordinator's own fence
   * (above), a call librdkafka never answered (`TRIBUTARY_KAFKA_UNANSWERED`), or one resumed until the
   * transaction expired (`TRIBUTARY_KAFKA_TRANSACTION_EXPIRED`).
   */
  mustBeReplaced(error: unknown): boolean {
    if (error instanceof TributaryError && REPLACED_ON.has(error.code)) return true;
    return this.fencedByTimeout(error);
  }

  /**
   * replaceableAfterFailedAbort for this producer's open transaction: call it right after abort() failed,
   * which leaves the transaction, and so its age, as it was.
   */
  replaceableAfterFailedAbort(abortError: unknown, error: unknown): boolean {
    return replaceableAfterFailedAbort(abortError, error, this.transactionExpired());
  }

  /** Enqueues one message; waits while librdkafka's local queue is full instead of failing. */
  async produce(message: OutgoingMessage): Promise<void> {
    while (!this.tryProduce(message)) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /**
   * Enqueues one message, or answers false while librdkafka's local queue is full. The hot path of a
   * batch: no promise per message (call produce() for the message that did not fit).
   */
  tryProduce(message: OutgoingMessage): boolean {
    try {
      this.producer.produce(
        message.topic,
        message.partition ?? null,
        message.value,
        message.key,
        message.timestamp ?? null,
        undefined,
        message.headers,
      );
      return true;
    } catch (error) {
      if ((error as { code?: number }).code !== ERR.ERR__QUEUE_FULL) throw toTributaryError(error, 'produce');
      return false;
    }
  }

  /** Adds the input offsets to the transaction, under the consumer's group generation at this call. */
  async sendOffsets(offsets: TopicPartitionOffset[], consumer: RdKafkaConsumer): Promise<void> {
    await this.resumeUntilSettled('sendOffsetsToTransaction', (done) =>
      this.producer.sendOffsetsToTransaction(offsets, consumer, this.operationTimeoutMs, done),
    );
  }

  async commit(): Promise<void> {
    await this.resumeUntilSettled('commitTransaction', (done) =>
      this.producer.commitTransaction(this.operationTimeoutMs, done),
    );
    this.inTransaction = false;
  }

  async abort(): Promise<void> {
    if (!this.inTransaction) return;
    // The unanswered call is still inside librdkafka, which would refuse an abort beside it.
    if (this.instanceStuck)
      throw new TributaryError('TRIBUTARY_KAFKA_UNANSWERED', 'abortTransaction: the instance is stuck', {
        retryable: false,
      });
    try {
      await this.resumeUntilSettled('abortTransaction', (done) =>
        this.producer.abortTransaction(this.operationTimeoutMs, done),
      );
    } catch (error) {
      if (error instanceof TributaryError && error.code === 'TRIBUTARY_KAFKA_TRANSACTION_EXPIRED')
        throw error;
      throw asFatal(error, 'abortTransaction');
    }
    this.inTransaction = false;
  }

  /**
   * After a fatal error (not a fence) this producer instance is unusable for good (rdkafka.h: "the
   * application must destroy the producer"). A new instance with the same transactional id takes over:
   * initTransactions bumps the epoch and aborts the transaction the dead instance left open, so nothing
   * it produced can commit. Only for a transaction that was never asked to commit (its outcome is
   * known). Resumes a retriable failure of the new instance's start (the broker still coming back).
   */
  async replaceAfterFatal(): Promise<void> {
    const dead = this.producer;
    this.inTransaction = false;
    if (this.instanceStuck) {
      // Closing it would destroy the instance under the native call still running in it; left as it
      // is, the new instance's initTransactions fences it, so nothing it holds can commit.
      this.log?.error(
        'abandoning a producer instance librdkafka left stuck in a transaction call; a new one takes over',
      );
      this.instanceStuck = false;
    } else {
      try {
        await this.disconnect();
      } catch (error) {
        this.log?.warn({ err: error }, 'closing the failed producer failed; replacing it anyway');
      }
    }
    this.producer = this.createInstance();
    dead.removeAllListeners();
    await call('producer connect', (done) => this.producer.connect({}, (error) => done(error)));
    this.producer.setPollInBackground(true);
    await this.resumeUntilSettled('initTransactions', (done) =>
      this.producer.initTransactions(this.operationTimeoutMs, done),
    );
  }

  async disconnect(): Promise<void> {
    if (!this.producer.isConnected()) return;
    await call('producer disconnect', (done) => this.producer.disconnect(10_000, (error) => done(error)));
  }

  /** `native`, or TRIBUTARY_KAFKA_UNANSWERED (and the instance marked stuck) once it is overdue. */
  private async answered(operation: string, native: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.instanceStuck = true;
        overdueCallsRunning += 1;
        const returned = (): void => {
          overdueCallsRunning -= 1;
        };
        native.then(returned, returned);
        reject(
          new TributaryError(
            'TRIBUTARY_KAFKA_UNANSWERED',
            `${operation}: librdkafka has not answered in ${this.unansweredAfterMs} ms ` +
              `(its own timeout is ${this.operationTimeoutMs} ms); the producer instance is replaced`,
            { context: { operation, unansweredAfterMs: this.unansweredAfterMs } },
          ),
        );
      }, this.unansweredAfterMs);
    });
    try {
      await Promise.race([native, overdue]);
    } finally {
      clearTimeout(timer);
    }
  }

  private expired(operation: string, error: unknown): TributaryError {
    const ageMs = Date.now() - this.beganAt;
    const timeoutMs = this.transactionTimeoutMs();
    return new TributaryError(
      'TRIBUTARY_KAFKA_TRANSACTION_EXPIRED',
      `${operation} failed retriably with the transaction open ${ageMs} ms, past transaction.timeout.ms ` +
        `(${timeoutMs} ms): the coordinator aborts it on its own; the producer instance is replaced`,
      { cause: error, context: { operation, ageMs, transactionTimeoutMs: timeoutMs } },
    );
  }

  /**
   * Calls a transaction operation again while librdkafka answers retriable, as long as the transaction
   * has not expired; throws abortable, fatal or TRIBUTARY_KAFKA_TRANSACTION_EXPIRED.
   */
  private async resumeUntilSettled(
    operation: string,
    start: (done: (error: unknown) => void) => void,
  ): Promise<void> {
    let backoffMs = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.answered(operation, call(operation, start));
        if (attempt > 1)
          this.log?.info({ operation, attempt }, `${operation} went through after resuming it`);
        return;
      } catch (error) {
        if (this.instanceStuck) throw error;
        const failure = transactionFailure(error);
        if (failure === 'abortable') throw asAbortable(error, operation);
        if (failure === 'fatal') throw asFatal(error, operation);
        // Resuming only helps a transaction the coordinator still holds open.
        if (this.transactionExpired()) throw this.expired(operation, error);
        backoffMs = nextBackoffMs(backoffMs, MAX_RESUME_BACKOFF_MS);
        this.log?.warn(
          { err: error, operation, attempt, backoffMs },
          `${operation} failed retriably; resuming it`,
        );
        await sleep(backoffMs);
      }
    }
  }
}

/** The librdkafka error flags behind a (possibly already classified) failure. */
function librdkafkaFlags(error: unknown): {
  code?: number;
  isFatal?: boolean;
  isRetriable?: boolean;
  isTxnRequiresAbort?: boolean;
} {
  const raw = error instanceof TributaryError ? error.cause : error;
  return typeof raw === 'object' && raw !== null ? raw : {};
}

/** Failures after which the instance is replaced and the transaction's outcome read back from Kafka. */
const REPLACED_ON = new Set<string>(['TRIBUTARY_KAFKA_UNANSWERED', 'TRIBUTARY_KAFKA_TRANSACTION_EXPIRED']);

const NEVER_RETRIED = new Set<string>([
  'TRIBUTARY_KAFKA_FENCED',
  'TRIBUTARY_KAFKA_RECORD_TOO_LARGE',
  'TRIBUTARY_KAFKA_PERMANENT',
  'TRIBUTARY_KAFKA_NOT_AUTHORIZED',
]);

/** How a failed transaction call is handled: resumed, abortable (abort, retry the batch) or fatal. */
export function transactionFailure(error: unknown): TransactionFailure {
  // By code first: fenced, a record that can never fit, or a permanent refusal is never retried, even
  // when librdkafka also flags it abortable (a too-large record fails the commit that way).
  if (error instanceof TributaryError && NEVER_RETRIED.has(error.code)) return 'fatal';
  const flags = librdkafkaFlags(error);
  if (flags.isFatal === true) return 'fatal';
  // Another call is the one to resume: the call sequence is broken, never retry (librdkafka marks
  // ERR__CONFLICT retriable, which would loop forever here).
  if (flags.code === ERR.ERR__CONFLICT) return 'fatal';
  // ERR__STATE flagged requires-abort: the transaction failed under the call (a produce of the batch
  // failed, so TxnOffsetCommit could not be sent, rdkafka_txnmgr.c); aborting ends it. Unflagged, no
  // call may be made now: fatal.
  if (flags.isTxnRequiresAbort === true) return 'abortable';
  if (flags.code === ERR.ERR__STATE) return 'fatal';
  if (flags.isRetriable === true) return 'retriable';
  // Anything else (ERR__STATE, ERR__CONFLICT, not configured) means the call sequence itself is broken.
  return 'fatal';
}

/**
 * The producer instance raised a fatal error of its own (librdkafka's fatal flag, e.g. INVALID_TXN_STATE
 * from the broker after a restart, librdkafka issue #4849), not a fence by another copy: replace it.
 */
export function producerInstanceFailed(error: unknown): boolean {
  if (!(error instanceof TributaryError) || error.code !== 'TRIBUTARY_KAFKA_FATAL') return false;
  return librdkafkaFlags(error).isFatal === true;
}

/**
 * Whether the producer can be replaced after its abort failed for good, `error` being what made the batch
 * abort and `transactionExpired` whether the transaction had been open longer than transaction.timeout.ms
 * (TransactionalProducer.replaceableAfterFailedAbort supplies it). Yes when the instance failed on its own
 * (above), and when the abort was refused as fenced after a batch that failed without a fence, in a
 * transaction past its timeout: the coordinator timed it out (a broker down longer than that) and bumped
 * the epoch itself. The coordinator never times out a younger transaction, so a fence of one is a twin's:
 * a replacement started with this transactional id, whose join to the group can fail this copy's send of
 * offsets abortably (ILLEGAL_GENERATION) just before its fence reaches the abort. Replacing then would
 * fence the replacement back, so the copy stops.
 */
export function replaceableAfterFailedAbort(
  abortError: unknown,
  error: unknown,
  transactionExpired: boolean,
): boolean {
  if (producerInstanceFailed(error)) return false;
  if (producerInstanceFailed(abortError)) return true;
  // An abort resumed past the transaction's expiry: the coordinator aborts it on its own.
  if (abortError instanceof TributaryError && abortError.code === 'TRIBUTARY_KAFKA_TRANSACTION_EXPIRED')
    return true;
  const abortFenced = abortError instanceof TributaryError && abortError.code === 'TRIBUTARY_KAFKA_FENCED';
  return abortFenced && transactionExpired && error instanceof TributaryError && error.retryable;
}

function asAbortable(error: unknown, operation: string): TributaryError {
  const classified = toTributaryError(error, operation);
  return new TributaryError('TRIBUTARY_KAFKA_ABORTABLE', classified.message, {
    cause: classified.cause ?? error,
    context: classified.context,
  });
}

function asFatal(error: unknown, operation: string): TributaryError {
  const classified = toTributaryError(error, operation);
  if (!classified.retryable) return classified;
  return new TributaryError('TRIBUTARY_KAFKA_FATAL', classified.message, {
    cause: classified.cause ?? error,
    context: classified.context,
  });
}
