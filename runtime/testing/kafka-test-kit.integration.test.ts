// A test scope cleans up after itself: what a test creates under its prefix is gone when it ends.
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { withAdmin } from '../kafka/index.ts';
import { kafkaTestScope, produceRecords, readTopic } from './kafka-test-kit.ts';
import type { KafkaTestScope } from './kafka-test-kit.ts';

const brokers = inject('brokers');
let scope: KafkaTestScope | undefined;

async function topicsWithPrefix(prefix: string): Promise<string[]> {
  return withAdmin(brokers, async (admin) => (await admin.listTopics()).filter((t) => t.startsWith(prefix)));
}

describe('kafkaTestScope', () => {
  it('creates topics under a unique prefix and registers their deletion', async () => {
    scope = kafkaTestScope(brokers, 'scope', onTestFinished);
    const topic = await scope.topic('events', { partitions: 2, cleanupPolicy: 'delete' });
    await produceRecords(brokers, topic, [{ key: 'k', value: 'v', partition: 1 }]);
    expect((await readTopic(brokers, topic, 2)).map((r) => [r.partition, r.key])).toEqual([[1, 'k']]);
    expect(await topicsWithPrefix(scope.prefix)).toEqual([topic]);
  });

  it('has deleted them once that test finished', async () => {
    const prefix = scope?.prefix ?? 'no scope: the first test did not run';
    // Deletion is accepted at once; metadata may list the topic for a moment longer.
    let left = await topicsWithPrefix(prefix);
    for (let tries = 0; left.length > 0 && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      left = await topicsWithPrefix(prefix);
    }
    expect(left).toEqual([]);
  });
});
