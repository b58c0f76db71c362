// A commit that meets a stopped broker, on a broker of this file's own (SIGSTOP would stall every other
// test of the shared stack): librdkafka answers the commit with a retriable timeout and keeps the commit as
// the call to resume, so the loop must call commit again, not abort (which would answer ERR__CONFLICT).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePorts } from '../../../infra/stack/stack.ts';
import { startKafkaNode, waitForKafka } from '../../../infra/stack/kafka-node.ts';
import { signalGroup } from '../../../infra/stack/processes.ts';
import type { ProcessRecord } from '../../../infra/stack/processes.ts';
import { cacheDir } from '../../../infra/stack/paths.ts';
import { TransactionalProducer, sleep } from '../../kafka/index.ts';
import type { TransactionalProducerOptions } from '../../kafka/index.ts';
import {
  createTopics,
  produceRecords,
  readTopic,
  uniquePrefix,
  waitForGroupCaughtUp,
} from '../../testing/kafka-test-kit.ts';
import { committedRecords, startLoopCopy } from '../../testing/loop-copy.ts';
import { CommitOutlivesTimeout } from '../../testing/commit-outlives-timeout.ts';
import type { AfterHold } from '../../testing/commit-outlives-timeout.ts';
import type { LoopCopy } from '../../testing/loop-copy.ts';
import { passthrough } from '../../../processors/passthrough/passthrough.ts';

const PARTITIONS = 2;
const STOPPED_MS = 8000;
const dataDir = mkdtempSync(join(tmpdir(), 'tributary-broker-stop-'));
let broker: ProcessRecord | undefined;
let brokers = '';

beforeAll(async () => {
  const [kafkaPort = 0, controllerPort = 0] = await findFreePorts(2);
  broker = await startKafkaNode({ dataDir, cacheDir: cacheDir(), kafkaPort, controllerPort });
  await waitForKafka(broker, kafkaPort, 90_000);
  brokers = `127.0.0.1:${kafkaPort}`;
  // A fresh broker creates its transaction-state and offsets topics on first use; do that outside the test.
  const prefix = uniquePrefix('warmup');
  await passthroughTopics(prefix);
  await produceRecords(brokers, `${prefix}passthrough.in`, [
    { key: 'a', value: 'v', partition: 0 },
    { key: 'b', value: 'v', partition: 1 },
  ]);
  const warmup = await startLoopCopy({ brokers, prefix, instanceId: '0', definition: passthrough });
  await waitForGroupCaughtUp(brokers, `${prefix}passthrough`, `${prefix}passthrough.in`, 120_000);
  await warmup.stop();
}, 240_000);

async function passthroughTopics(prefix: string): Promise<void> {
  await createTopics(brokers, [
    { name: `${prefix}passthrough.in`, partitions: PARTITIONS, cleanupPolicy: 'delete' },
    { name: `${prefix}passthrough.out`, partitions: PARTITIONS, cleanupPolicy: 'delete' },
  ]);
}

afterAll(() => {
  if (broker !== undefined) {
    signalGroup(broker.pid, 'SIGCONT');
    signalGroup(broker.pid, 'SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

/** Resolves once the copy has committed `count` input records: counted in the process, because admin
 * requests to a just-resumed broker on a loaded machine time out for a while. */
async function committedAll(copy: LoopCopy, count: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((await committedRecords(copy)) < count) {
    if (Date.now() > deadline)
      throw new Error(`committed ${await committedRecords(copy)} of ${count} records`);
    await sleep(250);
  }
}

/** Stops the broker (SIGSTOP) just before its `stopAtCommit`-th commit and resumes it STOPPED_MS later. */
class BrokerStopsDuringCommit extends TransactionalProducer {
  private commits = 0;
  stoppedAt: number | undefined;

  constructor(
    settings: ConstructorParameters<typeof TransactionalProducer>[0],
    options: TransactionalProducerOptions,
    private readonly brokerPid: number,
    private readonly stopAtCommit: number,
  ) {
    super(settings, options);
  }

  override async commit(): Promise<void> {
    if (++this.commits === this.stopAtCommit) {
      signalGroup(this.brokerPid, 'SIGSTOP');
      this.stoppedAt = Date.now();
      setTimeout(() => signalGroup(this.brokerPid, 'SIGCONT'), STOPPED_MS);
    }
    await super.commit();
  }
}

/** Topics of a fresh prefix, the input holding `count` records with distinct keys. */
async function passthroughInput(label: string, count: number): Promise<string> {
  const prefix = uniquePrefix(label);
  await passthroughTopics(prefix);
  await produceRecords(
    brokers,
    `${prefix}passthrough.in`,
    Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
  );
  return prefix;
}

/** Runs `copy` until it committed all `count` input records (or stopped), stops it; its outcome. */
async function runToTheEnd(copy: LoopCopy, count: number): Promise<{ failure: unknown; exact: boolean }> {
  let failure: unknown;
  copy.finished.catch((error: unknown) => (failure = error));
  await Promise.race([committedAll(copy, count), copy.finished]);
  await copy.stop().catch(() => undefined);
  const seen = await outputCounts(copy.prefix);
  return { failure, exact: seen.size === count && [...seen.values()].every((n) => n === 1) };
}

/** A copy whose third commit is held past its 3 s transaction timeout and the broker's 10 s sweep. */
async function copyHoldingThirdCommit(
  prefix: string,
  afterHold: AfterHold,
): Promise<{ copy: LoopCopy; producer: CommitOutlivesTimeout }> {
  let producer: CommitOutlivesTimeout | undefined;
  const copy = await startLoopCopy({
    ...copyOptions(prefix),
    producer: (settings, options) =>
      (producer = new CommitOutlivesTimeout(
        { ...settings, transactionTimeoutMs: 3000 },
        options,
        3,
        16_000,
        afterHold,
      )),
  });
  if (producer === undefined) throw new Error('startLoopCopy did not build the producer');
  return { copy, producer };
}

/** One pass-through copy, small batches, a session long enough to outlast the broker's pause. */
const copyOptions = (prefix: string) => ({
  brokers,
  prefix,
  instanceId: '0',
  definition: passthrough,
  maxBatchRecords: 100,
  sessionTimeoutMs: 45_000,
});

async function outputCounts(prefix: string): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (const record of await readTopic(brokers, `${prefix}passthrough.out`, PARTITIONS))
    seen.set(record.key ?? '', (seen.get(record.key ?? '') ?? 0) + 1);
  return seen;
}

// Regression (issue 9, the broker-SIGKILL fault case in CI): a broker down longer than the transaction
// timeout comes back, its coordinator aborts the open transaction and bumps the epoch, and the abort of
// the failed batch is then refused as fenced. That fence is the coordinator's, not a twin's: every copy
// stopped with exit 3 until this was handled by replacing the producer.
describe('a transaction the coordinator timed out while the batch failed', () => {
  it('the fenced abort replaces the producer: the loop carries on, exact', async () => {
    const count = 2000;
    const prefix = await passthroughInput('txntimeout', count);
    const { copy, producer } = await copyHoldingThirdCommit(prefix, 'fail-abortable');
    expect(await runToTheEnd(copy, count)).toEqual({ failure: undefined, exact: true });
    expect(producer.heldAt).toBeDefined();
  }, 180_000);
});

// Regression (issue 9, the broker-SIGKILL fault case): a commit resumed across a broker restart met a
// transaction the coordinator had timed out meanwhile; 'Failed to end transaction: fenced' stopped the
// copy (exit 3) though no twin existed.
describe('a commit the coordinator fenced on its transaction timeout', () => {
  it('replaces the producer, restores from what Kafka holds and carries on: no exit, exact', async () => {
    const count = 2000;
    const prefix = await passthroughInput('commitfence', count);
    const { copy, producer } = await copyHoldingThirdCommit(prefix, 'commit');
    expect({ ...(await runToTheEnd(copy, count)), heldCommit: producer.heldCommitError }).toEqual({
      failure: undefined,
      exact: true,
      heldCommit: 'TRIBUTARY_KAFKA_FENCED',
    });
  }, 180_000);
});

describe('a commit against a stopped broker', () => {
  it('a retriable commit failure is resumed, not aborted: the loop rides it out, exact; /healthz false meanwhile', async () => {
    const count = 3000;
    const prefix = await passthroughInput('stopcommit', count);
    let producer: BrokerStopsDuringCommit | undefined;
    const copy = await startLoopCopy({
      ...copyOptions(prefix),
      // One commit call waits 2 s for the broker, so the stop surfaces as a retriable timeout.
      producer: (settings, options) =>
        (producer = new BrokerStopsDuringCommit(
          settings,
          { ...options, operationTimeoutMs: 2000 },
          broker?.pid ?? 0,
          3,
        )),
      loop: { stallMs: 3000 },
    });
    let failure: unknown;
    copy.finished.catch((error: unknown) => (failure = error));
    const liveness: boolean[] = [];
    const sampling = setInterval(() => liveness.push(copy.loop.progress.status().ok), 250);
    try {
      // A loop that stops on the outage fails the test with its error instead of a long wait.
      await Promise.race([committedAll(copy, count), copy.finished]);
    } finally {
      clearInterval(sampling);
    }
    expect(failure).toBeUndefined();
    expect(producer?.stoppedAt).toBeDefined();
    expect(liveness).toContain(false); // while the commit was being resumed
    expect(copy.loop.progress.status().ok).toBe(true); // and live again once it went through
    await copy.stop();

    const seen = await outputCounts(prefix);
    expect(seen.size).toBe(count);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });
});
