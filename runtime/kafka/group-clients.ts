// The two clients of one copy of a processor or sink: its group consumer and its transactional producer,
// both named `<group>-<instance>` so a restarted copy fences its predecessor's transaction.
import { InputConsumer } from './input-consumer.ts';
import { TransactionalProducer } from './transactional-producer.ts';

export interface GroupClientSettings {
  brokers: string;
  group: string;
  instanceId: string;
  sessionTimeoutMs: number;
  transactionTimeoutMs: number;
}

export interface GroupClients {
  consumer: InputConsumer;
  producer: TransactionalProducer;
}

export function createGroupClients(settings: GroupClientSettings): GroupClients {
  const id = `${settings.group}-${settings.instanceId}`;
  return {
    consumer: new InputConsumer({
      brokers: settings.brokers,
      groupId: settings.group,
      clientId: id,
      sessionTimeoutMs: settings.sessionTimeoutMs,
    }),
    producer: new TransactionalProducer({
      brokers: settings.brokers,
      clientId: id,
      transactionalId: id,
      transactionTimeoutMs: settings.transactionTimeoutMs,
    }),
  };
}
