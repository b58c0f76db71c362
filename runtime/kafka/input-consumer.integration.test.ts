// InputConsumer against the real broker: what it reports for partitions and offsets.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createTopics, deleteTopicsWithPrefix, uniquePrefix } from '../testing/kafka-test-kit.ts';
import { InputConsumer } from './input-consumer.ts';

const brokers = inject('brokers');
const prefix = uniquePrefix('consumer');

afterAll(async () => {
  await deleteTopicsWithPrefix(brokers, prefix);
});

describe('InputConsumer', () => {
  it('reports -1 as the committed offset of a partition its group never committed (the sink committed NaN)', async () => {
    const topic = `${prefix}fresh`;
    await createTopics(brokers, [{ name: topic, partitions: 2, cleanupPolicy: 'delete' }]);
    const consumer = new InputConsumer({
      brokers,
      groupId: `${prefix}group`,
      clientId: 'consumer-test',
      sessionTimeoutMs: 10_000,
    });
    await consumer.connect([topic], 100);
    try {
      const committed = await consumer.committed([
        { topic, partition: 0 },
        { topic, partition: 1 },
      ]);
      expect(committed.map(({ partition, offset }) => ({ partition, offset }))).toEqual([
        { partition: 0, offset: -1 },
        { partition: 1, offset: -1 },
      ]);
    } finally {
      await consumer.disconnect();
    }
  });
});
