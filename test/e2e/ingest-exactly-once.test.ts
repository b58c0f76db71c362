// Ingest against the load generator's ground truth, with real processes: every raw offset becomes
// exactly one valid event, one dead letter with the right reason, or one counted duplicate — also when
// ingest is SIGKILLed mid-run and when two copies share the partitions.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  EventGenerator,
  buildFleet,
  generatorOptionsFromTruth,
  generatorOptionsSchema,
  runLoadgen,
} from '../../loadgen/index.ts';
import type { Truth } from '../../loadgen/index.ts';
import {
  createTopics,
  deleteTopicsWithPrefix,
  readTopic,
  uniquePrefix,
  waitForGroupCaughtUp,
} from '../../runtime/testing/kafka-test-kit.ts';
import { findFreePort } from '../../infra/stack/stack.ts';
import { processEnv, startProcessor } from '../../infra/pipeline/processor-process.ts';
import { AvroDecoder, HttpSchemaRegistry } from '../../runtime/serde/index.ts';
import { committedTotal, withAdmin } from '../../runtime/kafka/index.ts';
import type { DeadLetterValue } from '../../runtime/index.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const PARTITIONS = 6;
const EVENTS = 100_000;
const workDir = mkdtempSync(join(tmpdir(), 'tributary-ingest-'));

function ingestEnv(prefix: string, instanceId: string): Record<string, string> {
  return processEnv(
    { brokers, registryUrl, prefix, stateDir: join(workDir, 'state') },
    { TRIBUTARY_INSTANCE_ID: instanceId, TRIBUTARY_DEFAULT_PARTITIONS: String(PARTITIONS) },
  );
}

async function generate(prefix: string, rate: number): Promise<Truth> {
  const generator = generatorOptionsSchema.parse({
    seed: 7,
    count: EVENTS,
    rate,
    startMs: Date.now(),
    bad: undefined,
    duplicates: 0.01,
  });
  const result = await runLoadgen({
    brokers,
    topicPrefix: prefix,
    partitions: PARTITIONS,
    generator,
    runsDir: join(workDir, 'runs'),
    progress: false,
  });
  return result.truth;
}

/** The event ids requests.valid must hold, regenerated from the truth's generator settings. */
function expectedValidIds(truth: Truth): Set<string> {
  const options = generatorOptionsFromTruth(truth);
  const generator = new EventGenerator(
    buildFleet({
      seed: options.seed,
      services: options.services,
      customers: options.customers,
      regions: options.regions,
    }),
    options,
  );
  const ids = new Set<string>();
  for (let delivery = generator.next(); delivery !== undefined; delivery = generator.next()) {
    if (delivery.kind === 'valid') ids.add(delivery.key);
  }
  return ids;
}

async function committedInputOffsets(prefix: string): Promise<number> {
  return committedTotal(brokers, `${prefix}ingest`, `${prefix}requests.raw`);
}

async function expectPipelineMatchesTruth(prefix: string, truth: Truth): Promise<void> {
  expect(truth.failed.deliveries).toBe(0);
  await waitForGroupCaughtUp(brokers, `${prefix}ingest`, `${prefix}requests.raw`);

  const valid = await readTopic(brokers, `${prefix}requests.valid`, PARTITIONS);
  const validIds = valid.map((r) => r.key ?? '');
  expect(new Set(validIds).size).toBe(validIds.length);
  expect(validIds.length).toBe(truth.valid_events);
  const expected = expectedValidIds(truth);
  expect(validIds.filter((id) => !expected.has(id))).toEqual([]);

  const decoder = AvroDecoder.forWriterSchema<DeadLetterValue>(new HttpSchemaRegistry(registryUrl));
  const dlq = await readTopic(brokers, `${prefix}requests.dlq`, PARTITIONS);
  const byReason: Record<string, number> = {};
  for (const record of dlq) {
    const letter = await decoder.decodeAsync(record.value ?? Buffer.alloc(0));
    byReason[letter.reason] = (byReason[letter.reason] ?? 0) + 1;
    expect(letter.source_topic).toBe(`${prefix}requests.raw`);
    expect(letter.original_value).not.toBeNull();
  }
  const expectedReasons = Object.fromEntries(Object.entries(truth.dead_letters).filter(([, n]) => n > 0));
  expect(byReason).toEqual(expectedReasons);

  // Every input offset is exactly one of: valid event, dead letter, counted duplicate.
  const duplicates = (await committedInputOffsets(prefix)) - valid.length - dlq.length;
  expect(duplicates).toBe(truth.duplicates);
}

async function duplicateCounter(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('tributary_records_total{') && l.includes('outcome="duplicate"'));
  return Number(line?.split(' ').pop() ?? 0);
}

/** Waits until the group has this many members, so a test really runs with that many copies. */
async function waitForMembers(group: string, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const described = await withAdmin(brokers, (admin) => admin.describeGroups([group]));
    const members = described.groups[0]?.members ?? [];
    if (members.length === count && members.every((m) => m.assignment.topicPartitions.length > 0)) return;
    if (Date.now() > deadline)
      throw new Error(`group ${group} has ${members.length} members, waited for ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

afterAll(async () => {
  await deleteTopicsWithPrefix(brokers, 't-ingest-');
});

describe('ingest against the load generator ground truth', () => {
  it('writes exactly the expected valid events, dead letters by reason and duplicate count', async () => {
    const prefix = uniquePrefix('ingest');
    const port = await findFreePort();
    const ingest = startProcessor(
      'ingest',
      { ...ingestEnv(prefix, '0'), TRIBUTARY_HTTP_PORT: String(port) },
      join(workDir, 'clean.log'),
    );
    const truth = await generate(prefix, 100_000);
    await expectPipelineMatchesTruth(prefix, truth);
    expect(await duplicateCounter(port)).toBe(truth.duplicates);
    ingest.kill('SIGTERM');
    expect((await ingest.exited).code).toBe(0);
  });

  it('stays exact when ingest is SIGKILLed twice during the run (dedup state restored from its changelog)', async () => {
    const prefix = uniquePrefix('ingest');
    let ingest = startProcessor('ingest', ingestEnv(prefix, '0'), join(workDir, 'killed.log'));
    // A slower run, so both kills land while events are still arriving.
    const generating = generate(prefix, 10_000);
    for (let kill = 0; kill < 2; kill++) {
      await new Promise((resolve) => setTimeout(resolve, 2500 + Math.random() * 2000));
      ingest.kill('SIGKILL');
      expect((await ingest.exited).signal).toBe('SIGKILL');
      ingest = startProcessor('ingest', ingestEnv(prefix, '0'), join(workDir, 'killed.log'));
    }
    const truth = await generating;
    await expectPipelineMatchesTruth(prefix, truth);
    ingest.kill('SIGTERM');
    expect((await ingest.exited).code).toBe(0);
  });

  it('stays exact with two ingest copies splitting the partitions', async () => {
    const prefix = uniquePrefix('ingest');
    const copies = ['0', '1'].map((id) =>
      startProcessor('ingest', ingestEnv(prefix, id), join(workDir, `two-${id}.log`)),
    );
    await createTopics(brokers, [
      { name: `${prefix}requests.raw`, partitions: PARTITIONS, cleanupPolicy: 'delete' },
    ]);
    await waitForMembers(`${prefix}ingest`, 2);
    const truth = await generate(prefix, 50_000);
    await expectPipelineMatchesTruth(prefix, truth);
    for (const copy of copies) copy.kill('SIGTERM');
    expect((await Promise.all(copies.map((c) => c.exited))).map((e) => e.code)).toEqual([0, 0]);
  });
});
