// The transaction loop's recovery against the real broker: a rewind that fails after an abort, a rewind
// that never succeeds, and a batch whose consume spans a real rebalance (a second copy joining).
import { afterEach, describe, expect, inject, it } from 'vitest';
import { TributaryError, bytes, defineProcessor } from '../../index.ts';
import { InputConsumer, TransactionalProducer } from '../../kafka/index.ts';
import type {
  ConsumerSettings,
  Message,
  RdKafkaProducer,
  TransactionalProducerOptions,
} from '../../kafka/index.ts';
import { committedTotal, nativeCallsStillRunning } from '../../kafka/index.ts';
import { ERR } from '../../kafka/librdkafka.ts';
import { clientError } from '../../testing/client-errors.ts';
import {
  createTopics,
  produceRecords,
  readTopic,
  uniquePrefix,
  waitForGroupCaughtUp,
} from '../../testing/kafka-test-kit.ts';
import { committedTransactions, startLoopCopy } from '../../testing/loop-copy.ts';
import type { LoopCopy, LoopCopyOptions } from '../../testing/loop-copy.ts';
import { passthrough } from '../../../processors/passthrough/passthrough.ts';
import { CommittedOffsetsUnavailable, eventually } from '../../testing/committed-offsets-unavailable.ts';

const brokers = inject('brokers');
const PARTITIONS = 4;
const copies: LoopCopy[] = [];

afterEach(async () => {
  await Promise.allSettled(copies.splice(0).map((copy) => copy.stop()));
});

/** Copies its input like passthrough, but the first time it meets `failOnKey` a dependency is down. */
function flakyCopier(failOnKey: string) {
  let failed = false;
  return defineProcessor({
    name: 'flaky',
    description: 'passthrough that fails one batch with a transient error',
    input: { topic: 'flaky.in', value: bytes() },
    outputs: { copied: { topic: 'flaky.out', value: bytes() } },
    config: {},
    handle(record, ctx) {
      if (!failed && record.key?.toString() === failOnKey) {
        failed = true;
        throw new TributaryError('TRIBUTARY_REGISTRY_UNAVAILABLE', 'injected: a dependency is down');
      }
      ctx.emit('copied', record.key, record.value, { timestamp: record.timestamp });
    },
  });
}

/** Its first `failures` rewinds fail as a coordinator outage would (a transient Kafka error). */
class RewindFailing extends InputConsumer {
  rewinds = 0;
  constructor(
    settings: ConsumerSettings,
    private failures: number,
  ) {
    super(settings);
  }

  override async rewindToCommitted(): Promise<void> {
    this.rewinds++;
    if (this.failures-- > 0)
      throw new TributaryError('TRIBUTARY_KAFKA_TRANSIENT', 'injected: committed offsets unavailable');
    await super.rewindToCommitted();
  }
}

/** Whether a transaction is open, and how many non-empty batches were consumed while one was. */
interface Overlap {
  open: boolean;
  consumedWhileOpen: number;
}

/** Its `failAt`-th commit fails (transiently) before reaching the broker; keeps `overlap.open`. */
class CommitFailingOnce extends TransactionalProducer {
  private commits = 0;
  constructor(
    settings: ConstructorParameters<typeof TransactionalProducer>[0],
    options: TransactionalProducerOptions,
    private readonly overlap: Overlap,
    private readonly failAt: number,
  ) {
    super(settings, options);
  }

  override async begin(): Promise<void> {
    await super.begin();
    this.overlap.open = true;
  }

  override async commit(): Promise<void> {
    try {
      if (++this.commits === this.failAt)
        throw new TributaryError('TRIBUTARY_KAFKA_TRANSIENT', 'injected: the commit timed out');
      await super.commit();
    } finally {
      this.overlap.open = false;
    }
  }
}

class OverlapCounting extends InputConsumer {
  constructor(
    settings: ConsumerSettings,
    private readonly overlap: Overlap,
  ) {
    super(settings);
  }

  override async consumeBatch(maxRecords: number): Promise<Message[]> {
    const batch = await super.consumeBatch(maxRecords);
    if (batch.length > 0 && this.overlap.open) this.overlap.consumedWhileOpen++;
    return batch;
  }
}

type SendOffsets = RdKafkaProducer['sendOffsetsToTransaction'];

/**
 * A producer whose first librdkafka instance sends offsets through `fault`, given the real send, the
 * call's arguments and its number (from 1); the instances it made are counted in `made`.
 */
function firstInstanceSendingOffsets(
  made: { instances: number },
  fault: (send: SendOffsets, args: Parameters<SendOffsets>, nth: number) => void,
) {
  return class extends TransactionalProducer {
    protected override createInstance(): RdKafkaProducer {
      const instance = super.createInstance();
      if (++made.instances > 1) return instance;
      const send = instance.sendOffsetsToTransaction.bind(instance);
      let sends = 0;
      instance.sendOffsetsToTransaction = ((...args: Parameters<SendOffsets>) =>
        fault(send, args, ++sends)) as SendOffsets;
      return instance;
    }
  };
}

/** Its first instance never answers its `hangAt`-th send of offsets, as after a broker pause (librdkafka #5456). */
const sendOffsetsHangingOnce = (hangAt: number, made: { instances: number }) =>
  firstInstanceSendingOffsets(made, (send, args, nth) => {
    if (nth !== hangAt) send(...args);
  });

/**
 * Its first instance, from its `failFrom`-th send of offsets on, answers each one with a retriable timeout
 * after `afterMs`: after a broker pause the request sat in librdkafka's queue for the transaction
 * coordinator and was never sent, call after call (fault suite, broker SIGSTOPped).
 */
const sendOffsetsTimingOutFrom = (failFrom: number, afterMs: number, made: { instances: number }) =>
  firstInstanceSendingOffsets(made, (send, args, nth) => {
    if (nth < failFrom) return send(...args);
    const done = args[args.length - 1] as (error: unknown) => void;
    const timedOut = clientError(
      ERR.ERR__TIMED_OUT,
      { isRetriable: true },
      'injected: Failed to add offsets to transaction: Local: Timed out',
    );
    setTimeout(() => done(timedOut), afterMs);
  });

async function topics(prefix: string, name: string): Promise<void> {
  await createTopics(brokers, [
    { name: `${prefix}${name}.in`, partitions: PARTITIONS, cleanupPolicy: 'delete' },
    { name: `${prefix}${name}.out`, partitions: PARTITIONS, cleanupPolicy: 'delete' },
  ]);
}

const keyed = (count: number): Array<{ key: string; value: string }> =>
  Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));

/** Output keys that are missing or appear more than once, against k0..k(count-1). */
async function exactlyOnceProblems(
  topic: string,
  count: number,
): Promise<{ missing: number; duplicated: number }> {
  const seen = new Map<string, number>();
  for (const record of await readTopic(brokers, topic, PARTITIONS))
    seen.set(record.key ?? '', (seen.get(record.key ?? '') ?? 0) + 1);
  let missing = 0;
  for (let i = 0; i < count; i++) if (!seen.has(`k${i}`)) missing++;
  const duplicated = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
  return { missing, duplicated };
}

/**
 * Runs one pass-through copy with these clients, 100 records a batch, over `count` keyed records until
 * its group has caught up, stops it, and returns what its output misses or repeats.
 */
async function passthroughToTheEnd(
  name: string,
  count: number,
  clients: Pick<LoopCopyOptions, 'consumer' | 'producer'>,
): Promise<{ missing: number; duplicated: number }> {
  const prefix = uniquePrefix(name);
  await topics(prefix, 'passthrough');
  await produceRecords(brokers, `${prefix}passthrough.in`, keyed(count));
  const copy = await startLoopCopy({
    brokers,
    prefix,
    instanceId: '0',
    definition: passthrough,
    maxBatchRecords: 100,
    ...clients,
  });
  copies.push(copy);
  await waitForGroupCaughtUp(brokers, `${prefix}passthrough`, `${prefix}passthrough.in`, 120_000);
  await copy.stop();
  return exactlyOnceProblems(`${prefix}passthrough.out`, count);
}

describe('transaction loop recovery', () => {
  it('the next batch is consumed while a commit is in flight; a failed commit drops it and reads it again: exact', async () => {
    const overlap: Overlap = { open: false, consumedWhileOpen: 0 };
    const problems = await passthroughToTheEnd('ahead', 3000, {
      consumer: (settings) => new OverlapCounting(settings, overlap),
      producer: (settings, options) => new CommitFailingOnce(settings, options, overlap, 5),
    });
    expect(overlap.consumedWhileOpen).toBeGreaterThan(0);
    expect(problems).toEqual({ missing: 0, duplicated: 0 });
  });

  it('a send of offsets librdkafka never answers: the instance is replaced and the batch retried: exact', async () => {
    const made = { instances: 0 };
    const HangingProducer = sendOffsetsHangingOnce(3, made);
    const runningBefore = nativeCallsStillRunning();
    const problems = await passthroughToTheEnd('unanswered', 2000, {
      producer: (settings, options) => new HangingProducer(settings, { ...options, unansweredAfterMs: 3000 }),
    });
    expect(made.instances).toBe(2);
    // The abandoned call never returns: the process must exit without joining its thread.
    expect(nativeCallsStillRunning() - runningBefore).toBe(1);
    expect(problems).toEqual({ missing: 0, duplicated: 0 });
  });

  // Regression (issue 16, fault suite "broker SIGSTOPped"): the copy resumed the send of offsets every
  // 10 s for minutes, never polling, so its partitions stayed with it and the group never caught up.
  it('a send of offsets failing retriably past the transaction timeout: the instance is replaced: exact', async () => {
    const made = { instances: 0 };
    const StaleCoordinator = sendOffsetsTimingOutFrom(3, 1000, made);
    const problems = await passthroughToTheEnd('expired', 2000, {
      producer: (settings, options) =>
        new StaleCoordinator({ ...settings, transactionTimeoutMs: 3000 }, options),
    });
    expect(made.instances).toBe(2);
    expect(problems).toEqual({ missing: 0, duplicated: 0 });
  });

  // Regression (CI, run-processor "stops a zombie copy"): a replacement with the copy's instance id joined
  // the group and fenced the copy; the copy's send of offsets failed abortably under the new generation
  // (ILLEGAL_GENERATION, rdkafka_txnmgr.c) and its abort as fenced. The copy took that for the
  // coordinator timing out its transaction, replaced its producer and so fenced the replacement back.
  it('a twin fences the copy while its send of offsets fails abortably: the copy stops fenced, the twin goes on', async () => {
    const prefix = uniquePrefix('twin');
    await topics(prefix, 'passthrough');
    await produceRecords(brokers, `${prefix}passthrough.in`, keyed(2000));
    const made = { instances: 0 };
    let twinClients: ConstructorParameters<typeof TransactionalProducer> | undefined;
    let twin: TransactionalProducer | undefined;
    const FencedUnderNewGeneration = firstInstanceSendingOffsets(made, (send, args, nth) => {
      if (nth !== 3 || twinClients === undefined) return send(...args);
      const done = args[args.length - 1] as (error: unknown) => void;
      twin = new TransactionalProducer(...twinClients);
      const illegalGeneration = clientError(
        ERR.ERR_ILLEGAL_GENERATION,
        { isTxnRequiresAbort: true },
        'injected: Failed to commit offsets to transaction: Broker: Specified group generation id is not valid',
      );
      twin.connect().then(
        () => done(illegalGeneration),
        (error: unknown) => done(error),
      );
    });
    const copy = await startLoopCopy({
      brokers,
      prefix,
      instanceId: '0',
      definition: passthrough,
      maxBatchRecords: 100,
      producer: (settings, options) => {
        twinClients = [settings, options];
        return new FencedUnderNewGeneration(settings, options);
      },
    });
    copies.push(copy);
    const ended = await Promise.race([
      copy.finished.then(
        () => 'returned',
        (error: unknown) => error,
      ),
      new Promise((resolve) => setTimeout(() => resolve('still running 30 s on'), 30_000)),
    ]);
    expect(ended).toMatchObject({ code: 'TRIBUTARY_KAFKA_FENCED' });
    expect(made.instances).toBe(1);
    // The twin was not fenced back: it commits a transaction of its own.
    const live = twin as TransactionalProducer;
    await live.begin();
    await live.produce({
      topic: `${prefix}passthrough.out`,
      key: Buffer.from('twin'),
      value: Buffer.from('1'),
    });
    await live.commit();
    await live.disconnect();
  });

  it('a failed rewind after an abort is not swallowed: the loop consumes again only once it succeeded', async () => {
    const prefix = uniquePrefix('rewind');
    await topics(prefix, 'flaky');
    await produceRecords(brokers, `${prefix}flaky.in`, keyed(2000));
    let consumer: RewindFailing | undefined;
    const copy = await startLoopCopy({
      brokers,
      prefix,
      instanceId: '0',
      definition: flakyCopier('k700'),
      maxBatchRecords: 100,
      consumer: (settings) => (consumer = new RewindFailing(settings, 2)),
    });
    copies.push(copy);
    await waitForGroupCaughtUp(brokers, `${prefix}flaky`, `${prefix}flaky.in`, 120_000);
    await copy.stop();
    expect(await exactlyOnceProblems(`${prefix}flaky.out`, 2000)).toEqual({ missing: 0, duplicated: 0 });
    expect(consumer?.rewinds).toBe(3);
  });

  // Regression (issue 9, transaction-loop-broker-stop in CI): the rewind's retries never consumed, so
  // librdkafka never handed the copy a revoke (a lost session, a copy joining) and the group waited on it.
  it('a rewind retrying against an unreachable coordinator serves rebalances: a copy that joins gets partitions', async () => {
    const prefix = uniquePrefix('rewindjoin');
    await topics(prefix, 'flaky');
    await produceRecords(brokers, `${prefix}flaky.in`, keyed(2000));
    let stuck: CommittedOffsetsUnavailable | undefined;
    const first = await startLoopCopy({
      brokers,
      prefix,
      instanceId: '0',
      definition: flakyCopier('k700'),
      maxBatchRecords: 100,
      consumer: (settings) => (stuck = new CommittedOffsetsUnavailable(settings)),
    });
    copies.push(first);
    await eventually(() => (stuck?.failedReads ?? 0) > 0, 60_000, 'the first copy retries its rewind');
    const second = await startLoopCopy({
      brokers,
      prefix,
      instanceId: '1',
      definition: flakyCopier('none'),
      maxBatchRecords: 100,
    });
    copies.push(second);
    try {
      await eventually(
        () => second.consumer.assignment.length > 0,
        40_000,
        'the joining copy gets partitions while the first cannot rewind',
      );
    } finally {
      stuck?.makeAvailable();
    }
    await waitForGroupCaughtUp(brokers, `${prefix}flaky`, `${prefix}flaky.in`, 120_000);
    await first.stop();
    await second.stop();
    expect(await exactlyOnceProblems(`${prefix}flaky.out`, 2000)).toEqual({ missing: 0, duplicated: 0 });
  });

  it('a rewind that never succeeds stops the loop with REWIND_FAILED, committing nothing past the abort', async () => {
    const prefix = uniquePrefix('norewind');
    await topics(prefix, 'flaky');
    await produceRecords(brokers, `${prefix}flaky.in`, keyed(2000));
    const copy = await startLoopCopy({
      brokers,
      prefix,
      instanceId: '0',
      definition: flakyCopier('k700'),
      maxBatchRecords: 100,
      consumer: (settings) => new RewindFailing(settings, Number.POSITIVE_INFINITY),
      loop: { rewindGiveUpMs: 2000 },
    });
    copies.push(copy);
    const outcome = await Promise.race([
      copy.finished.then(
        () => 'returned',
        (error: unknown) => (error instanceof TributaryError ? error.code : String(error)),
      ),
      new Promise((resolve) => setTimeout(() => resolve('still running after 30 s'), 30_000)),
    ]);
    expect(outcome).toBe('TRIBUTARY_KAFKA_REWIND_FAILED');
    const committed = await committedTotal(brokers, `${prefix}flaky`, `${prefix}flaky.in`);
    const output = await readTopic(brokers, `${prefix}flaky.out`, PARTITIONS);
    expect(committed).toBeLessThan(2000);
    expect(output.length).toBe(committed);
  });

  it('a batch whose consume spans a rebalance is aborted, never committed under the new generation', async () => {
    const prefix = uniquePrefix('span');
    await topics(prefix, 'passthrough');
    await produceRecords(brokers, `${prefix}passthrough.in`, keyed(4000));
    let second: LoopCopy | undefined;
    const spanning = (settings: ConsumerSettings): InputConsumer =>
      new ConsumeSpanningRebalance(settings, async () => {
        second = await startLoopCopy({ brokers, prefix, instanceId: '1', definition: passthrough });
        copies.push(second);
        return second;
      });
    copies.push(
      await startLoopCopy({
        brokers,
        prefix,
        instanceId: '0',
        definition: passthrough,
        maxBatchRecords: 500,
        consumer: spanning,
      }),
    );
    await waitForGroupCaughtUp(brokers, `${prefix}passthrough`, `${prefix}passthrough.in`, 120_000);
    expect(second).toBeDefined();
    await Promise.all(copies.splice(0).map((copy) => copy.stop()));
    expect(await exactlyOnceProblems(`${prefix}passthrough.out`, 4000)).toEqual({
      missing: 0,
      duplicated: 0,
    });
  });
});

/**
 * Its first non-empty consume keeps filling the batch while a second copy joins the group: it returns
 * only after the revoke and the new assignment were handled and the second copy committed a batch, as a
 * native consume that was filling the batch while the rebalance happened would.
 */
class ConsumeSpanningRebalance extends InputConsumer {
  private spanned = false;

  constructor(
    settings: ConsumerSettings,
    private readonly joinSecondCopy: () => Promise<LoopCopy>,
  ) {
    super(settings);
  }

  override async consumeBatch(maxRecords: number): Promise<Message[]> {
    const epochAtStart = this.assignmentEpoch;
    const batch = await super.consumeBatch(maxRecords);
    if (this.spanned || batch.length === 0) return batch;
    this.spanned = true;
    const joining = this.joinSecondCopy();
    let second: LoopCopy | undefined;
    void joining.then((copy) => (second = copy));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const rebalanced = this.assignmentEpoch >= epochAtStart + 2;
      if (rebalanced && second !== undefined && (await committedTransactions(second)) > 0) break;
      batch.push(...(await super.consumeBatch(maxRecords)));
    }
    return batch;
  }
}
