// Factories for tests against the real broker: a scope whose topics and groups delete themselves when
// the test (or file) ends, unique names, bulk produce, read a topic to its end, wait for a consumer
// group to catch up.
import { randomBytes } from 'node:crypto';
import { Producer, call } from '../kafka/librdkafka.ts';
import { describeError } from '../errors.ts';
import { readPartitionsToEnd } from '../kafka/partition-reader.ts';
import { ensureTopics, producerConfig, withAdmin } from '../kafka/index.ts';
import type { TopicSpec } from '../kafka/index.ts';

/** A prefix no other test uses: topics, groups and transactional ids all live under it. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${randomBytes(4).toString('hex')}.`;
}

export async function createTopics(brokers: string, specs: TopicSpec[]): Promise<void> {
  await withAdmin(brokers, (admin) => ensureTopics(admin, specs));
}

export async function deleteTopicsWithPrefix(brokers: string, prefix: string): Promise<void> {
  await withAdmin(brokers, async (admin) => {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  });
}

/** Registers what a scope must undo: vitest's `onTestFinished` inside a test, `afterAll` in a hook. */
export type RegisterCleanup = (cleanup: () => Promise<void>) => void;

/** Names under one unique prefix; everything created under it is deleted when the test ends. */
export interface KafkaTestScope {
  readonly brokers: string;
  readonly prefix: string;
  /** `<prefix><name>`: for topics a processor creates itself, transactional ids, … */
  name(name: string): string;
  /** Creates `<prefix><name>` (default 1 partition, delete policy) and returns its name. */
  topic(name: string, spec?: Omit<TopicSpec, 'name'>): Promise<string>;
  /** A consumer group name under the prefix; the group and its offsets go at cleanup. */
  group(name: string): string;
}

/**
 * Like platformatic/kafka's `createTopic(t)`: the scope registers its own cleanup, which deletes every
 * topic and consumer group under its prefix (also those a processor under test created).
 */
export function kafkaTestScope(brokers: string, label: string, onCleanup: RegisterCleanup): KafkaTestScope {
  const prefix = uniquePrefix(label);
  onCleanup(() => deleteEverythingWithPrefix(brokers, prefix));
  return {
    brokers,
    prefix,
    name: (name) => prefix + name,
    group: (name) => prefix + name,
    topic: async (name, spec = { partitions: 1, cleanupPolicy: 'delete' }) => {
      await createTopics(brokers, [{ ...spec, name: prefix + name }]);
      return prefix + name;
    },
  };
}

async function deleteEverythingWithPrefix(brokers: string, prefix: string): Promise<void> {
  await withAdmin(brokers, async (admin) => {
    const { groups } = await admin.listGroups();
    const ours = groups.map((g) => g.groupId).filter((id) => id.startsWith(prefix));
    if (ours.length > 0) await admin.deleteGroups(ours);
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  });
}

export interface TestRecord {
  key: string | null;
  value: Buffer | string | null;
  partition?: number;
  /** Record time (ms); unset: now. */
  timestamp?: number;
  headers?: Array<Record<string, string | Buffer>>;
}

/** Produces with an idempotent producer and waits until every record is acknowledged. */
export async function produceRecords(
  brokers: string,
  topic: string,
  records: readonly TestRecord[],
): Promise<void> {
  const producer = new Producer({
    ...producerConfig({ brokers, clientId: 'test-producer', lingerMs: 20 }),
    dr_cb: true,
  });
  await call('connect', (done) => producer.connect({}, (error) => done(error)));
  producer.setPollInterval(10);
  let pending = records.length;
  let failure: unknown;
  const allAcknowledged = new Promise<void>((resolve) => {
    if (pending === 0) resolve();
    producer.on('delivery-report', (error) => {
      if (error) failure ??= error;
      if (--pending === 0) resolve();
    });
  });
  for (const record of records) {
    const value = record.value === null ? null : Buffer.from(record.value);
    for (;;) {
      try {
        producer.produce(
          topic,
          record.partition ?? null,
          value,
          record.key,
          record.timestamp,
          undefined,
          record.headers,
        );
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 5)); // local queue full
      }
    }
  }
  await allAcknowledged;
  await call('disconnect', (done) => producer.disconnect((error) => done(error)));
  if (failure !== undefined) throw new Error(`producing to ${topic} failed: ${describeError(failure)}`);
}

export interface ReadRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: Buffer | null;
  headers?: Array<Record<string, string | Buffer>>;
}

/** Reads every committed record of a topic (read_committed), from the beginning to the current end. */
export async function readTopic(
  brokers: string,
  topic: string,
  partitions: number,
  timeoutMs = 120_000,
): Promise<ReadRecord[]> {
  const records: ReadRecord[] = [];
  const all = Array.from({ length: partitions }, (_, partition) => partition);
  await readPartitionsToEnd({ brokers, topic, partitions: all, timeoutMs }, (message) => {
    records.push({
      partition: message.partition,
      offset: message.offset,
      key: message.key?.toString() ?? null,
      value: message.value,
      ...(message.headers === undefined ? {} : { headers: message.headers }),
    });
  });
  return records;
}

export { waitForGroupCaughtUp } from '../kafka/index.ts';
