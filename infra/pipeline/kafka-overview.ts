// What the broker knows about the pipeline, read through the admin API: topics with their end offsets,
// consumer groups with state, members and committed offsets against the end of every partition they read.
// Used by `tributary status` (tables) and `tributary start` (lag when the processes export none).
import { connect } from 'node:net';
import type { KafkaAdmin } from '../../runtime/kafka/index.ts';
import { withGroupProgress } from '../../runtime/kafka/index.ts';

export interface TopicOverview {
  name: string;
  partitions: number;
  /** Sum of the partitions' high watermarks (records ever written, control records included). */
  endOffsets: number;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** -1: nothing committed yet (lag then counts from the earliest offset still kept). */
  committed: number;
  end: number;
  lag: number;
}

export interface GroupOverview {
  group: string;
  state: string;
  members: number;
  partitions: PartitionLag[];
  lag: number;
}

const ADMIN_TIMEOUT_MS = 10_000;

// ConsumerGroupStates of the client library, by number.
const GROUP_STATES = ['unknown', 'preparing-rebalance', 'completing-rebalance', 'stable', 'dead', 'empty'];

/** Topics under `prefix` (internal `__*` topics left out), by name. */
export async function topicOverview(admin: KafkaAdmin, prefix: string): Promise<TopicOverview[]> {
  const names = (await admin.listTopics({ timeout: ADMIN_TIMEOUT_MS }))
    .filter((name) => name.startsWith(prefix) && !name.startsWith('__'))
    .sort();
  if (names.length === 0) return [];
  const metadata = await admin.fetchTopicMetadata({ topics: names, timeout: ADMIN_TIMEOUT_MS });
  return Promise.all(
    names.map(async (name) => {
      const ends = await endOffsets(admin, name);
      return {
        name,
        partitions: metadata.find((m) => m.name === name)?.partitions.length ?? ends?.size ?? 0,
        endOffsets: ends === undefined ? 0 : [...ends.values()].reduce((n, e) => n + e.high, 0),
      };
    }),
  );
}

async function endOffsets(
  admin: KafkaAdmin,
  topic: string,
): Promise<Map<number, { high: number; low: number }> | undefined> {
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, { high: Number(o.high), low: Number(o.low) }]));
  } catch {
    return undefined; // deleted meanwhile, or a topic the group once read and no longer exists
  }
}

/** Groups whose id starts with `prefix` (or exactly `groupIds`), each with its lag per partition. */
export async function groupOverview(
  admin: KafkaAdmin,
  brokers: string,
  prefix: string,
  groupIds?: readonly string[],
): Promise<GroupOverview[]> {
  const ids =
    groupIds ??
    (await admin.listGroups({ timeout: ADMIN_TIMEOUT_MS })).groups
      .map((g) => g.groupId)
      .filter((id) => id.startsWith(prefix))
      .sort();
  if (ids.length === 0) return [];
  const { groups } = await admin.describeGroups([...ids], { timeout: ADMIN_TIMEOUT_MS });
  return Promise.all(
    groups.map(async (group) => {
      const partitions = await groupPartitions(admin, brokers, group.groupId, assignedTopics(group.members));
      return {
        group: group.groupId,
        state: GROUP_STATES[group.state] ?? String(group.state),
        members: group.members.length,
        partitions,
        lag: partitions.reduce((n, p) => n + p.lag, 0),
      };
    }),
  );
}

function assignedTopics(
  members: ReadonlyArray<{ assignment?: { topicPartitions?: Array<{ topic: string }> } }>,
) {
  return members.flatMap((m) => (m.assignment?.topicPartitions ?? []).map((tp) => tp.topic));
}

async function groupPartitions(
  admin: KafkaAdmin,
  brokers: string,
  group: string,
  assigned: string[],
): Promise<PartitionLag[]> {
  // An empty group has no assignment to tell its topics: look at every topic and keep those it committed on.
  const candidates =
    assigned.length > 0 ? assigned : (await admin.listTopics()).filter((t) => !t.startsWith('_'));
  const byTopic = new Map<string, Map<number, number>>();
  await withGroupProgress(brokers, group, async (progress) => {
    for (const topic of new Set(candidates)) {
      const offsets = await progress(topic).catch(() => []);
      if (assigned.includes(topic) || offsets.some((p) => p.committed >= 0)) {
        byTopic.set(topic, new Map(offsets.map((p) => [p.partition, p.committed])));
      }
    }
  });
  const topics = [...byTopic.keys()].sort();
  const perTopic = await Promise.all(
    topics.map(async (topic) => {
      const ends = await endOffsets(admin, topic);
      if (ends === undefined) return [];
      return [...ends.entries()]
        .sort(([a], [b]) => a - b)
        .map(([partition, { high, low }]) => {
          const done = byTopic.get(topic)?.get(partition) ?? -1;
          const lag = Math.max(0, high - (done < 0 ? low : done));
          return { topic, partition, committed: done, end: high, lag };
        });
    }),
  );
  return perTopic.flat();
}

/** True when some broker of `brokers` (host:port,…) accepts a TCP connection within `timeoutMs`. */
export async function brokerReachable(brokers: string, timeoutMs = 3000): Promise<boolean> {
  const attempts = brokers.split(',').map(
    (address) =>
      new Promise<boolean>((resolve) => {
        const colon = address.lastIndexOf(':');
        const socket = connect({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) });
        const done = (ok: boolean): void => {
          socket.destroy();
          resolve(ok);
        };
        socket.setTimeout(timeoutMs, () => done(false));
        socket.once('connect', () => done(true));
        socket.once('error', () => done(false));
      }),
  );
  return (await Promise.all(attempts)).some(Boolean);
}
