// How far a consumer group has come: used by the CLI (demo, status, start), benchmarks and tests.
//
// Committed offsets are read with a consumer that carries the group id but never subscribes (so it never
// joins the group), not with the admin client: librdkafka 2.15's admin OffsetFetch dereferences a null
// consumer-group handle when a broker answers NOT_COORDINATOR and crashes the process (seen on a fresh
// broker; backtrace rd_kafka_cgrp_op ← rd_kafka_handle_OffsetFetch ← ListConsumerGroupOffsets).
import { TributaryError } from '../errors.ts';
import { KafkaConsumer, call } from './librdkafka.ts';
import type { RdKafkaConsumer, TopicPartitionOffset } from './librdkafka.ts';
import { withAdmin } from './topics.ts';
import { kafkaConnection } from './client-security.ts';
import type { KafkaAdmin } from './topics.ts';

export interface PartitionProgress {
  partition: number;
  /** Next offset the group will read; -1 when it has committed nothing there. */
  committed: number;
  end: number;
}

const TIMEOUT_MS = 30_000;

/** Reads a group's committed offsets without joining it; open once, read as often as needed. */
export class CommittedOffsetsReader {
  private readonly consumer: RdKafkaConsumer;

  constructor(brokers: string, group: string) {
    this.consumer = new KafkaConsumer({
      ...kafkaConnection(brokers),
      'group.id': group,
      'enable.auto.commit': false,
    });
  }

  async open(): Promise<void> {
    await call('offsets reader connect', (done) => this.consumer.connect({}, (error) => done(error)));
  }

  /** Retries what the broker calls transient (not coordinator, coordinator loading) for up to 30 s. */
  async read(topic: string, partitions: readonly number[]): Promise<Map<number, number>> {
    const toppars = partitions.map((partition) => ({ topic, partition }));
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      try {
        const committed = await call<TopicPartitionOffset[]>('committed', (done) =>
          this.consumer.committed(toppars, TIMEOUT_MS, done),
        );
        return new Map(committed.map((c) => [c.partition, c.offset >= 0 ? c.offset : -1]));
      } catch (error) {
        if (!isRetriable(error) || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  async close(): Promise<void> {
    await call('offsets reader disconnect', (done) => this.consumer.disconnect((error) => done(error)));
  }
}

async function progressWith(
  admin: KafkaAdmin,
  reader: CommittedOffsetsReader,
  topic: string,
): Promise<PartitionProgress[]> {
  const ends = await admin.fetchTopicOffsets(topic);
  const committed = await reader.read(
    topic,
    ends.map((e) => e.partition),
  );
  return ends.map((end) => ({
    partition: end.partition,
    committed: committed.get(end.partition) ?? -1,
    end: Number(end.high),
  }));
}

/** Runs `use` with an admin client and a committed-offsets reader for `group`, closing both after. */
export async function withGroupProgress<T>(
  brokers: string,
  group: string,
  use: (progress: (topic: string) => Promise<PartitionProgress[]>) => Promise<T>,
): Promise<T> {
  const reader = new CommittedOffsetsReader(brokers, group);
  await reader.open();
  try {
    return await withAdmin(brokers, (admin) => use((topic) => progressWith(admin, reader, topic)));
  } finally {
    await reader.close();
  }
}

/** Committed and end offset per partition of `topic` for `group`. */
export async function groupProgress(
  brokers: string,
  group: string,
  topic: string,
): Promise<PartitionProgress[]> {
  return withGroupProgress(brokers, group, (progress) => progress(topic));
}

/** Sum of the group's committed offsets on `topic`: how many records it has consumed there. */
export async function committedTotal(brokers: string, group: string, topic: string): Promise<number> {
  return (await groupProgress(brokers, group, topic)).reduce((sum, p) => sum + Math.max(0, p.committed), 0);
}

function isRetriable(error: unknown): boolean {
  return (
    (error as { retriable?: boolean }).retriable === true ||
    (error as { retryable?: boolean }).retryable === true
  );
}

/** Waits until the group has committed offsets equal to the end of every partition of `topic`. */
export async function waitForGroupCaughtUp(
  brokers: string,
  group: string,
  topic: string,
  timeoutMs = 240_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await withGroupProgress(brokers, group, async (progress) => {
    for (;;) {
      let behind: PartitionProgress[] = [];
      try {
        // A partition that never held a record (end 0) has nothing to commit: no committed offset is caught up.
        behind = (await progress(topic)).filter((p) => Math.max(p.committed, 0) < p.end);
        if (behind.length === 0) return;
      } catch (error) {
        // A fresh broker answers "coordinator load in progress" for a while; that is worth waiting out.
        if (!isRetriable(error) || Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline) {
        const detail = behind.map((b) => `p${b.partition} ${b.committed}/${b.end}`).join(', ');
        throw new TributaryError(
          'TRIBUTARY_KAFKA_TIMED_OUT',
          `group ${group} still behind on ${topic}: ${detail}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  });
}
