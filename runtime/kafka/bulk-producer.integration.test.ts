import { afterAll, describe, expect, inject, it } from 'vitest';
import { createTopics, deleteTopicsWithPrefix, readTopic, uniquePrefix } from '../testing/kafka-test-kit.ts';
import { BulkProducer } from './bulk-producer.ts';

const brokers = inject('brokers');
const prefix = uniquePrefix('bulk');

afterAll(async () => {
  await deleteTopicsWithPrefix(brokers, prefix);
});

describe('BulkProducer', () => {
  it('reports every record once, acknowledged, with its opaque', async () => {
    const topic = `${prefix}ok`;
    await createTopics(brokers, [{ name: topic, partitions: 3, cleanupPolicy: 'delete' }]);
    const reported = new Map<number, number>();
    const producer = new BulkProducer<number>(
      { brokers, clientId: 'bulk-test', maxInFlight: 500 },
      (error, opaque) => {
        expect(error).toBeUndefined();
        reported.set(opaque, (reported.get(opaque) ?? 0) + 1);
      },
    );
    await producer.connect();
    const value = Buffer.alloc(300, 'v');
    for (let i = 0; i < 5000; i++) {
      await producer.produce(topic, `k-${i}`, value, i);
      if (i % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await producer.close();
    expect(producer.acknowledged).toBe(5000);
    expect(producer.failed).toBe(0);
    expect(reported.size).toBe(5000);
    expect([...reported.values()].every((n) => n === 1)).toBe(true);
    expect((await readTopic(brokers, topic, 3)).length).toBe(5000);
  });

  it('reports a record the cluster refuses as failed, with its opaque', async () => {
    const outcomes: Array<[string, string]> = [];
    const producer = new BulkProducer<string>(
      { brokers, clientId: 'bulk-test', deliveryTimeoutMs: 20_000 },
      (error, opaque) => outcomes.push([opaque, error === undefined ? 'ok' : error.code]),
    );
    await producer.connect();
    // Not a legal topic name: the broker's metadata answer makes the client fail the record.
    await producer.produce(`${prefix}no such topic!`, 'a', Buffer.from('{}'), 'a');
    await producer.close();
    // An illegal topic name (ERR_TOPIC_EXCEPTION) never becomes legal: permanent, not transient (issue 9, finding 10).
    expect(outcomes).toEqual([['a', 'TRIBUTARY_KAFKA_PERMANENT']]);
    expect(producer.failed).toBe(1);
    expect(producer.acknowledged).toBe(0);
  });

  it('refuses a record larger than the client allows at produce time, without counting it', async () => {
    const producer = new BulkProducer<string>({ brokers, clientId: 'bulk-test' }, () => undefined);
    await producer.connect();
    expect(() => producer.tryProduce(`${prefix}any`, 'k', Buffer.alloc(2 << 20), 'big')).toThrow(
      /too large/i,
    );
    expect(producer.produced).toBe(0);
    await producer.close();
  });
});
