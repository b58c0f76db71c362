// Process lifecycle against the real stack: clean SIGTERM with work committed, bad config refused
// before touching Kafka, a zombie copy fenced by its replacement.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it, onTestFailed } from 'vitest';
import {
  createTopics,
  produceRecords,
  readTopic,
  uniquePrefix,
  waitForGroupCaughtUp,
} from '../../testing/kafka-test-kit.ts';
import {
  processEnv,
  runProcessorToExit,
  startProcessor as start,
} from '../../../infra/pipeline/processor-process.ts';
import type { ProcessorProcess } from '../../../infra/pipeline/processor-process.ts';
import { committedTotal } from '../../kafka/index.ts';
import { EXIT_BAD_CONFIG, EXIT_FENCED } from './run-processor.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const workDir = mkdtempSync(join(tmpdir(), 'tributary-lifecycle-'));
const PARTITIONS = 3;

function env(prefix: string, instanceId: string): Record<string, string> {
  return processEnv(
    { brokers, registryUrl, prefix, stateDir: join(workDir, 'state') },
    { TRIBUTARY_INSTANCE_ID: instanceId, TRIBUTARY_SHUTDOWN_TIMEOUT_MS: '15000' },
  );
}

async function setUpTopics(prefix: string): Promise<void> {
  await createTopics(brokers, [
    { name: `${prefix}passthrough.in`, partitions: PARTITIONS, cleanupPolicy: 'delete' },
    { name: `${prefix}passthrough.out`, partitions: PARTITIONS, cleanupPolicy: 'delete' },
  ]);
}

// A test that fails leaves no process behind: a live child keeps the test worker, and so CI, waiting.
const started: ProcessorProcess[] = [];
const startProcessor = (...args: Parameters<typeof start>): ProcessorProcess => {
  const processor = start(...args);
  started.push(processor);
  return processor;
};
afterEach(() => {
  for (const processor of started.splice(0)) if (processor.child.exitCode === null) processor.kill('SIGKILL');
});

/** The last lines of each copy's log, for a failure in CI, where the logs are gone with the machine. */
function printLogTails(logs: Record<string, string>): void {
  for (const [copy, file] of Object.entries(logs)) {
    let lines: string[] = [];
    try {
      lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-40);
    } catch {
      // never started
    }
    console.error(`--- the last ${lines.length} lines of the ${copy}'s log (${file}):\n${lines.join('\n')}`);
  }
}

const records = (from: number, count: number): Array<{ key: string; value: string }> =>
  Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}` }));

describe('processor lifecycle', () => {
  it('exits 0 on SIGTERM within the shutdown bound, with exactly the committed input in its output', async () => {
    const prefix = uniquePrefix('term');
    await setUpTopics(prefix);
    const processor = startProcessor('passthrough', env(prefix, '0'), join(workDir, 'term.log'));
    await produceRecords(brokers, `${prefix}passthrough.in`, records(0, 20_000));
    await waitForGroupCaughtUp(brokers, `${prefix}passthrough`, `${prefix}passthrough.in`);
    // Keep input arriving while the signal lands, so there is a batch in flight to finish.
    const producing = produceRecords(brokers, `${prefix}passthrough.in`, records(20_000, 30_000));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalledAt = Date.now();
    processor.kill('SIGTERM');
    const exit = await processor.exited;
    const shutdownMs = Date.now() - signalledAt;
    await producing;
    expect(exit.code).toBe(0);
    expect(shutdownMs).toBeLessThan(15_000);

    const committed = await committedTotal(brokers, `${prefix}passthrough`, `${prefix}passthrough.in`);
    const output = await readTopic(brokers, `${prefix}passthrough.out`, PARTITIONS);
    expect(output.length).toBe(committed);
    expect(new Set(output.map((r) => r.key)).size).toBe(output.length);
  });

  it('refuses bad config before touching Kafka, naming every bad key and exiting 2', async () => {
    const result = await runProcessorToExit(
      'passthrough',
      {
        TRIBUTARY_KAFKA_BROKERS: 'not a broker list',
        TRIBUTARY_MAX_BATCH_RECORDS: 'lots',
        TRIBUTARY_LOG_LEVEL: 'chatty',
      },
      30_000,
    );
    expect(result.code).toBe(EXIT_BAD_CONFIG);
    expect(result.output).toContain('TRIBUTARY_KAFKA_BROKERS');
    expect(result.output).toContain('TRIBUTARY_MAX_BATCH_RECORDS');
    expect(result.output).toContain('TRIBUTARY_LOG_LEVEL');
    expect(result.output).not.toContain('starting passthrough');
  });

  it('stops a zombie copy when a replacement with the same instance id fences it', async () => {
    const prefix = uniquePrefix('fence');
    await setUpTopics(prefix);
    const logs = {
      zombie: join(workDir, `${prefix}zombie.log`),
      replacement: join(workDir, `${prefix}replacement.log`),
    };
    onTestFailed(() => printLogTails(logs));
    const zombie = startProcessor('passthrough', env(prefix, '7'), logs.zombie);
    await produceRecords(brokers, `${prefix}passthrough.in`, records(0, 5000));
    await waitForGroupCaughtUp(brokers, `${prefix}passthrough`, `${prefix}passthrough.in`);
    const replacement = startProcessor('passthrough', env(prefix, '7'), logs.replacement);
    // Input keeps coming until the zombie is gone: it learns of the fence only from its next transaction.
    const feeding = (async () => {
      const until = Date.now() + 120_000;
      for (let i = 1; zombie.child.exitCode === null && Date.now() < until; i++) {
        await produceRecords(brokers, `${prefix}passthrough.in`, records(i * 5000, 5000));
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
    // The replacement exiting first means the zombie fenced it back and goes on as the live copy.
    const firstToExit = await Promise.race([
      zombie.exited.then(() => 'zombie'),
      replacement.exited.then(() => 'replacement'),
    ]);
    expect(firstToExit).toBe('zombie');
    await feeding;
    expect((await zombie.exited).code).toBe(EXIT_FENCED);
    await waitForGroupCaughtUp(brokers, `${prefix}passthrough`, `${prefix}passthrough.in`);
    replacement.kill('SIGTERM');
    expect((await replacement.exited).code).toBe(0);
    const output = await readTopic(brokers, `${prefix}passthrough.out`, PARTITIONS);
    expect(new Set(output.map((r) => r.key)).size).toBe(output.length);
  });
});
