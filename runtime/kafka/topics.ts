// Declarative topics: created when missing, reported when an existing one differs from its declaration.
import { KafkaJS } from './librdkafka.ts';
import { TributaryError } from '../errors.ts';

export interface TopicSpec {
  name: string;
  partitions: number;
  cleanupPolicy: 'delete' | 'compact' | 'compact,delete';
  /** Retention in ms; -1 keeps forever. Unset: the broker default. */
  retentionMs?: number;
  /** Segment roll time in ms: time-based retention only deletes whole closed segments. */
  segmentMs?: number;
  /** Further topic configs by their Kafka names (e.g. `min.cleanable.dirty.ratio`). */
  extraConfig?: Record<string, string>;
  replicationFactor?: number;
}

export interface TopicDrift {
  topic: string;
  problem: string;
}

export type KafkaAdmin = ReturnType<InstanceType<typeof KafkaJS.Kafka>['admin']>;

export async function withAdmin<T>(brokers: string, use: (admin: KafkaAdmin) => Promise<T>): Promise<T> {
  const kafka = new KafkaJS.Kafka({
    kafkaJS: { brokers: brokers.split(','), logLevel: KafkaJS.logLevel.ERROR },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

function configEntries(spec: TopicSpec): Array<{ name: string; value: string }> {
  const entries: Array<{ name: string; value: string }> = [
    { name: 'cleanup.policy', value: spec.cleanupPolicy },
  ];
  if (spec.retentionMs !== undefined) entries.push({ name: 'retention.ms', value: String(spec.retentionMs) });
  if (spec.segmentMs !== undefined) entries.push({ name: 'segment.ms', value: String(spec.segmentMs) });
  for (const [name, value] of Object.entries(spec.extraConfig ?? {})) entries.push({ name, value });
  return entries;
}

/**
 * Creates the missing topics and returns how existing ones differ (partition count). The client
 * library exposes no DescribeConfigs, so an existing topic's cleanup policy and retention are not compared.
 */
export async function ensureTopics(admin: KafkaAdmin, specs: readonly TopicSpec[]): Promise<TopicDrift[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !existing.has(spec.name));
  if (missing.length > 0) {
    try {
      await admin.createTopics({
        topics: missing.map((spec) => ({
          topic: spec.name,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicationFactor ?? 1,
          configEntries: configEntries(spec),
        })),
      });
    } catch (error) {
      // Another copy may have created it a moment ago; anything else is real.
      if (!String((error as Error).message).includes('already exists')) {
        throw new TributaryError(
          'TRIBUTARY_KAFKA_FATAL',
          `creating topics ${missing.map((s) => s.name).join(', ')}: ${String(error)}`,
          { cause: error },
        );
      }
    }
  }
  const present = specs.filter((spec) => existing.has(spec.name));
  if (present.length === 0) return [];
  const metadata = await admin.fetchTopicMetadata({ topics: present.map((spec) => spec.name) });
  const drift: TopicDrift[] = [];
  for (const spec of present) {
    const actual = metadata.find((topic) => topic.name === spec.name);
    const count = actual?.partitions.length ?? 0;
    if (count !== spec.partitions) {
      drift.push({ topic: spec.name, problem: `has ${count} partitions, declared ${spec.partitions}` });
    }
  }
  return drift;
}

export async function partitionCount(admin: KafkaAdmin, topic: string): Promise<number> {
  const [metadata] = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata?.partitions.length ?? 0;
}
