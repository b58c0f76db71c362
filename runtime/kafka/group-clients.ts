// The two clients of one copy of a processor or sink: its group consumer and its transactional producer,
// both named `<group>-<instance>` so a restarted copy fences its predecessor's transaction.
import type { Logger } from '../observability/index.ts';
import type { ConsumerSettings, ProducerSettings } from './client-config.ts';
import { InputConsumer } from './input-consumer.ts';
import { TransactionalProducer } from './transactional-producer.ts';
import type { TransactionalProducerOptions } from './transactional-producer.ts';

export interface GroupClientSettings {
  brokers: string;
  group: string;
  instanceId: string;
  sessionTimeoutMs: number;
  transactionTimeoutMs: number;
  /** Where the producer reports transaction calls it resumes and the consumer its group membership. */
  log?: Logger;
}

export interface GroupClients {
  consumer: InputConsumer;
  producer: TransactionalProducer;
}

/** The settings of both clients, for code that builds them itself (tests injecting a fault). */
export function groupClientSettings(settings: GroupClientSettings): {
  consumer: ConsumerSettings;
  producer: ProducerSettings & { transactionalId: string };
  producerOptions: TransactionalProducerOptions;
} {
  const id = `${settings.group}-${settings.instanceId}`;
  return {
    consumer: {
      brokers: settings.brokers,
      groupId: settings.group,
      clientId: id,
      sessionTimeoutMs: settings.sessionTimeoutMs,
    },
    producer: {
      brokers: settings.brokers,
      clientId: id,
      transactionalId: id,
      transactionTimeoutMs: settings.transactionTimeoutMs,
    },
    producerOptions: settings.log === undefined ? {} : { log: settings.log },
  };
}

export function createGroupClients(settings: GroupClientSettings): GroupClients {
  const { consumer, producer, producerOptions } = groupClientSettings(settings);
  return {
    consumer: new InputConsumer(consumer, settings.log === undefined ? {} : { log: settings.log }),
    producer: new TransactionalProducer(producer, producerOptions),
  };
}
