// InputConsumer against the real broker: what it reports for partitions and offsets.
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  createTopics,
  deleteTopicsWithPrefix,
  produceRecords,
  uniquePrefix,
} from '../testing/kafka-test-kit.ts';
import { InputConsumer } from './input-consumer.ts';

const brokers = inject('brokers');
const prefix = uniquePrefix('consumer');

const consumerFor = (group: string, clientId: string) =>
  new InputConsumer({ brokers, groupId: `${prefix}${group}`, clientId, sessionTimeoutMs: 6000 });

/** Polls every consumer until `done` holds (or fails after `timeoutMs`); returns what the first received. */
async function pollUntil(
  consumers: InputConsumer[],
  done: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<number> {
  let received = 0;
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) expect.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    for (const [index, consumer] of consumers.entries()) {
      const batch = await consumer.consumeBatch(500);
      if (index === 0) received += batch.length;
    }
  }
  return received;
}

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

  // Regression (issue 9, the broker-restart fault case in CI): the sink paused its partitions while a
  // commit waited out a broker restart; the commit gave up because the group had revoked them, the resume
  // came while nothing was assigned and so reached no partition, and the same partitions, assigned again,
  // stayed paused in librdkafka for good: the sink sat idle with lag.
  it('a resume while nothing is assigned still reaches the partitions paused before, once they come back', async () => {
    const topic = `${prefix}paused`;
    await createTopics(brokers, [{ name: topic, partitions: 2, cleanupPolicy: 'delete' }]);
    const first = consumerFor('pause-group', 'first');
    const second = consumerFor('pause-group', 'second');
    await first.connect([topic], 100);
    try {
      await pollUntil([first], () => first.assignment.length === 2, 30_000, 'the first assignment');
      first.pause();
      let resumedWhileUnassigned = false;
      first.addRebalanceListener({
        onRevoked: () => {
          if (resumedWhileUnassigned) return;
          resumedWhileUnassigned = true;
          expect(first.assignment).toEqual([]);
          first.resume();
        },
      });
      // A second member joins (everything is revoked and shared out), then leaves (all back to the first).
      await second.connect([topic], 100);
      await pollUntil(
        [first, second],
        () => second.assignment.length > 0 && first.assignment.length < 2,
        60_000,
        'the second member to get a partition',
      );
      await second.disconnect();
      await pollUntil([first], () => first.assignment.length === 2, 60_000, 'both partitions back');
      expect(resumedWhileUnassigned).toBe(true);

      await produceRecords(
        brokers,
        topic,
        Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: 'v', partition: i % 2 })),
      );
      let received = 0;
      const deadline = Date.now() + 15_000;
      while (received < 20 && Date.now() < deadline) received += (await first.consumeBatch(500)).length;
      expect(received, 'records fetched after the partitions came back').toBe(20);
    } finally {
      await first.disconnect();
      if (second.raw.isConnected()) await second.disconnect();
    }
  }, 180_000);
});
