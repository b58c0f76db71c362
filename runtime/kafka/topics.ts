// Declarative topics: created when missing, reported when an existing one differs from its declaration.
import { KafkaJS, toTributaryError } from './librdkafka.ts';
import { kafkaJsLogger } from './client-logs.ts';
import { kafkaSecurity } from './client-security.ts';
import { whyKafkaRefuses } from './connection-check.ts';
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
    ...kafkaSecurity(),
    kafkaJS: { brokers: brokers.split(','), logLevel: KafkaJS.logLevel.ERROR, logger: kafkaJsLogger() },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (error) {
    // Unreachable brokers answer ERR__TRANSPORT: transient, so a starting process waits for them.
    throw await explained(toTributaryError(error, `connecting to Kafka at ${brokers}`), brokers);
  }
  try {
    return await use(admin);
  } catch (error) {
    throw await explained(toTributaryError(error, `Kafka admin at ${brokers}`), brokers);
  } finally {
    await admin.disconnect();
  }
}

/** A transient-looking failure may be a refused login or certificate: then that is the error. */
async function explained(error: TributaryError, brokers: string): Promise<TributaryError> {
  if (error.code !== 'TRIBUTARY_KAFKA_TRANSIENT') return error;
  return (await whyKafkaRefuses(brokers)) ?? error;
}

/** The admin wraps per-topic failures in an aggregate; its first client error carries the code. */
function classified(error: unknown, operation: string): TributaryError {
  const first = (error as { errors?: unknown[] }).errors?.[0] ?? error;
  const { code, message, context, retryable } = toTributaryError(first, operation);
  return new TributaryError(code, message, { cause: error, context, retryable });
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
      // A topic another copy created a moment ago is not an error: the client skips ERR_TOPIC_ALREADY_EXISTS
      // itself (kafkajs/_admin.js createTopics). Anything else is classified by its first client error code.
      throw classified(error, `creating topics ${missing.map((s) => s.name).join(', ')}`);
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
