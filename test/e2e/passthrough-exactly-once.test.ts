// The runtime's exactly-once promise, proved with real processes: SIGKILL at random moments, restarts,
// and two copies sharing the partitions; the output read with read_committed equals the input exactly.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  createTopics,
  deleteTopicsWithPrefix,
  produceRecords,
  readTopic,
  uniquePrefix,
  waitForGroupCaughtUp,
} from '../../runtime/testing/kafka-test-kit.ts';
import type { TestRecord } from '../../runtime/testing/kafka-test-kit.ts';
import { processEnv, startProcessor } from '../../infra/pipeline/processor-process.ts';
import type { ProcessorProcess } from '../../infra/pipeline/processor-process.ts';
import { withAdmin } from '../../runtime/kafka/index.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const PARTITIONS = 6;
const RECORDS = 100_000;
const workDir = mkdtempSync(join(tmpdir(), 'tributary-passthrough-'));
let prefix = '';

function processorEnv(instanceId: string): Record<string, string> {
  return processEnv(
    { brokers, registryUrl, prefix, stateDir: join(workDir, 'state') },
    { TRIBUTARY_INSTANCE_ID: instanceId },
  );
}

function makeRecords(count: number, start = 0): TestRecord[] {
  return Array.from({ length: count }, (_, i) => ({ key: `k${start + i}`, value: `value-${start + i}` }));
}

/** Produces in chunks with pauses, so processing (and our kills) overlap with arriving input. */
async function produceSlowly(
  topic: string,
  records: TestRecord[],
  chunks: number,
  pauseMs: number,
): Promise<void> {
  const size = Math.ceil(records.length / chunks);
  for (let i = 0; i < records.length; i += size) {
    await produceRecords(brokers, topic, records.slice(i, i + size));
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

async function expectOutputEqualsInput(expected: TestRecord[]): Promise<void> {
  const output = await readTopic(brokers, `${prefix}passthrough.out`, PARTITIONS);
  const seen = new Map<string, number>();
  for (const record of output) seen.set(record.key ?? '', (seen.get(record.key ?? '') ?? 0) + 1);
  const duplicated = [...seen.entries()].filter(([, n]) => n > 1);
  const missing = expected.filter((r) => !seen.has(r.key ?? ''));
  expect({ duplicated: duplicated.length, missing: missing.length, total: output.length }).toEqual({
    duplicated: 0,
    missing: 0,
    total: expected.length,
  });
  for (const record of output) expect(record.value?.toString()).toBe(`value-${(record.key ?? '').slice(1)}`);
}

beforeEach(async () => {
  prefix = uniquePrefix('pt');
  await createTopics(brokers, [
    { name: `${prefix}passthrough.in`, partitions: PARTITIONS, cleanupPolicy: 'delete' },
    { name: `${prefix}passthrough.out`, partitions: PARTITIONS, cleanupPolicy: 'delete' },
  ]);
});

afterAll(async () => {
  await deleteTopicsWithPrefix(brokers, 't-pt-');
});

describe('passthrough processor as a real OS process', () => {
  it('loses and duplicates nothing over 100,000 records when SIGKILLed three times at random moments', async () => {
    const input = makeRecords(RECORDS);
    const producing = produceSlowly(`${prefix}passthrough.in`, input, 10, 1500);
    let current: ProcessorProcess = startProcessor(
      'passthrough',
      processorEnv('0'),
      join(workDir, 'kill.log'),
    );
    const kills: number[] = [];
    for (let kill = 0; kill < 3; kill++) {
      const delay = 2000 + Math.floor(Math.random() * 4000);
      await new Promise((resolve) => setTimeout(resolve, delay));
      current.kill('SIGKILL');
      const exit = await current.exited;
      expect(exit.signal).toBe('SIGKILL');
      kills.push(delay);
      current = startProcessor('passthrough', processorEnv('0'), join(workDir, 'kill.log'));
    }
    await producing;
    await waitForGroupCaughtUp(brokers, `${prefix}passthrough`, `${prefix}passthrough.in`);
    current.kill('SIGTERM');
    expect((await current.exited).code).toBe(0);
    await expectOutputEqualsInput(input);
  });

  it('splits the partitions between two copies and still writes exactly the input', async () => {
    const input = makeRecords(RECORDS);
    const copies = [0, 1].map((i) =>
      startProcessor('passthrough', processorEnv(String(i)), join(workDir, `two-${i}.log`)),
    );
    await produceSlowly(`${prefix}passthrough.in`, input, 5, 500);
    await waitForGroupCaughtUp(brokers, `${prefix}passthrough`, `${prefix}passthrough.in`);
    const group = await withAdmin(brokers, (admin) => admin.describeGroups([`${prefix}passthrough`]));
    const members = group.groups[0]?.members ?? [];
    expect(members).toHaveLength(2);
    for (const copy of copies) copy.kill('SIGTERM');
    const exits = await Promise.all(copies.map((c) => c.exited));
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    await expectOutputEqualsInput(input);
  });
});
