// How far a consumer group has come: used by the CLI (demo, status), benchmarks and tests.
import { withAdmin } from './topics.ts';
import type { KafkaAdmin } from './topics.ts';

export interface PartitionProgress {
  partition: number;
  committed: number;
  end: number;
}

function isRetriable(error: unknown): boolean {
  return (error as { retriable?: boolean }).retriable === true;
}

/** Committed offset and end offset per partition of `topic` for `group` (committed -1: none yet). */
export async function groupProgress(
  admin: KafkaAdmin,
  group: string,
  topic: string,
): Promise<PartitionProgress[]> {
  const ends = await admin.fetchTopicOffsets(topic);
  const committed = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const byPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return ends.map((end) => ({
    partition: end.partition,
    committed: byPartition.get(end.partition) ?? -1,
    end: Number(end.high),
  }));
}

/** Waits until the group has committed offsets equal to the end of every partition of `topic`. */
export async function waitForGroupCaughtUp(
  brokers: string,
  group: string,
  topic: string,
  timeoutMs = 240_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await withAdmin(brokers, async (admin) => {
    for (;;) {
      let behind: PartitionProgress[] = [];
      try {
        behind = (await groupProgress(admin, group, topic)).filter((p) => p.committed < p.end);
        if (behind.length === 0) return;
      } catch (error) {
        // A fresh broker answers "coordinator load in progress" for a while; that is worth waiting out.
        if (!isRetriable(error) || Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline) {
        const detail = behind.map((b) => `p${b.partition} ${b.committed}/${b.end}`).join(', ');
        throw new Error(`group ${group} still behind on ${topic}: ${detail}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  });
}
