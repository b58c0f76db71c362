// librdkafka settings for the runtime's clients, in one place so every processor behaves the same.
import type {
  ConsumerGlobalConfig,
  ConsumerTopicConfig,
  ProducerGlobalConfig,
  ProducerTopicConfig,
} from '@confluentinc/kafka-javascript';
import { kafkaConnection } from './client-security.ts';

// librdkafka accepts topic-level defaults (acks, auto.offset.reset) in the global config too.
export type ConsumerConfig = ConsumerGlobalConfig & ConsumerTopicConfig;
export type ProducerConfig = ProducerGlobalConfig & ProducerTopicConfig;

export interface ConsumerSettings {
  brokers: string;
  groupId: string;
  clientId: string;
  sessionTimeoutMs: number;
  statisticsIntervalMs?: number;
}

export function consumerConfig(settings: ConsumerSettings): ConsumerConfig {
  return {
    ...kafkaConnection(settings.brokers),
    'group.id': settings.groupId,
    'client.id': settings.clientId,
    // Offsets are committed only inside the output transaction, never by the consumer itself.
    'enable.auto.commit': false,
    'enable.auto.offset.store': false,
    'isolation.level': 'read_committed',
    'auto.offset.reset': 'earliest',
    'session.timeout.ms': settings.sessionTimeoutMs,
    'heartbeat.interval.ms': Math.max(1000, Math.floor(settings.sessionTimeoutMs / 4)),
    'max.poll.interval.ms': 300_000,
    'fetch.wait.max.ms': 50,
    // librdkafka prefetches up to 64 MB per partition by default, and the fetched batches stay in its
    // threads' malloc arenas at their high-water mark: 8 MB per partition held a pass-through copy at
    // 280-295 MB, 2 MB at 225-230 MB for the same events/s. A partition at the limit is fetched again
    // after fetch.queue.backoff.ms (1 s by default), which starved a consumer with a small queue (half
    // the events/s at 2 MB); 20 ms refetches as soon as the loop has taken a batch.
    'queued.max.messages.kbytes': 2048,
    'fetch.queue.backoff.ms': 20,
    'statistics.interval.ms': settings.statisticsIntervalMs ?? 2000,
    // Eager assignment: the library assigns/unassigns in its rebalance callback, we track the epoch.
    rebalance_cb: true,
  };
}

/** librdkafka's default transaction.timeout.ms is 60 s; 30 s bounds how long a dead copy blocks readers. */
export const DEFAULT_TRANSACTION_TIMEOUT_MS = 30_000;

export interface ProducerSettings {
  brokers: string;
  clientId: string;
  /** Set for the processor loop; unset for plain idempotent producers (load generator, tests). */
  transactionalId?: string;
  transactionTimeoutMs?: number;
  lingerMs?: number;
}

export function producerConfig(settings: ProducerSettings): ProducerConfig {
  const config: ProducerConfig = {
    ...kafkaConnection(settings.brokers),
    'client.id': settings.clientId,
    'enable.idempotence': true,
    acks: -1, // all in-sync replicas
    'linger.ms': settings.lingerMs ?? 5,
    'compression.type': 'lz4',
    // Same key → partition mapping as the Java client, so any producer agrees on where a key lives.
    partitioner: 'murmur2_random',
    'queue.buffering.max.messages': 500_000,
  };
  if (settings.transactionalId !== undefined) {
    config['transactional.id'] = settings.transactionalId;
    config['transaction.timeout.ms'] = settings.transactionTimeoutMs ?? DEFAULT_TRANSACTION_TIMEOUT_MS;
  }
  return config;
}
