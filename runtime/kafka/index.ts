export { InputConsumer, partitionKey } from './input-consumer.ts';
export type { InputConsumerOptions, RebalanceListener } from './input-consumer.ts';
export {
  TransactionalProducer,
  nativeCallsStillRunning,
  producerInstanceFailed,
} from './transactional-producer.ts';
export type { TransactionalProducerOptions } from './transactional-producer.ts';
export { BulkProducer, type BulkProducerSettings, type DeliveryListener } from './bulk-producer.ts';
export type { OutgoingMessage } from './transactional-producer.ts';
export { ensureTopics, partitionCount, withAdmin } from './topics.ts';
export type { TopicSpec, TopicDrift, KafkaAdmin } from './topics.ts';
export { consumerConfig, producerConfig } from './client-config.ts';
export { kafkaConnection, kafkaSecurityProperties, useKafkaSecurity } from './client-security.ts';
export type { KafkaSecurityProperties, KafkaSecuritySettings } from './client-security.ts';
export type { ConsumerSettings, ProducerSettings } from './client-config.ts';
export { toTributaryError, KafkaJS } from './librdkafka.ts';
export { setClientLogger } from './client-logs.ts';
export type { Message, RdKafkaProducer, TopicPartition, TopicPartitionOffset } from './librdkafka.ts';
export { readPartitionsToEnd } from './partition-reader.ts';
export type { ReadToEndOptions } from './partition-reader.ts';
export {
  CommittedOffsetsReader,
  committedTotal,
  groupProgress,
  waitForGroupCaughtUp,
  withGroupProgress,
} from './group-progress.ts';
export type { PartitionProgress } from './group-progress.ts';
export { createGroupClients, groupClientSettings } from './group-clients.ts';
export type { GroupClients, GroupClientSettings } from './group-clients.ts';
export { nextBackoffMs, sleep, withJitter } from './backoff.ts';
