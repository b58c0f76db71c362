// Regression (issue 9, finding 10): the dead letter of a ~1 MB raw event is larger than the producer's
// message.max.bytes, librdkafka refuses it with MSG_SIZE_TOO_LARGE, and that permanent error was treated
// as transient: the batch was aborted and retried forever. Now the dead letter's original is truncated to
// fit and says so, and the events behind it flow.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { Producer, call } from '../../runtime/kafka/librdkafka.ts';
import { producerConfig } from '../../runtime/kafka/index.ts';
import {
  createTopics,
  deleteTopicsWithPrefix,
  readTopic,
  uniquePrefix,
  waitForGroupCaughtUp,
} from '../../runtime/testing/kafka-test-kit.ts';
import { processEnv, startProcessor } from '../../infra/pipeline/processor-process.ts';
import { AvroDecoder, HttpSchemaRegistry } from '../../runtime/serde/index.ts';
import type { DeadLetterValue } from '../../runtime/index.ts';
import { rawEvent } from '../../processors/ingest/test-events.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const workDir = mkdtempSync(join(tmpdir(), 'tributary-oversized-'));
// Over librdkafka's default message.max.bytes (1,000,000), under the broker's default (1,048,588).
const HUGE_EVENT_BYTES = 1_040_000;

/** One partition, in order: a valid event, the huge one, a valid event. */
async function produceAroundHugeEvent(topic: string): Promise<void> {
  const producer = new Producer({
    ...producerConfig({ brokers, clientId: 'oversized-test', lingerMs: 0 }),
    'message.max.bytes': 1_048_000,
    dr_cb: true,
  });
  await call('connect', (done) => producer.connect({}, (error) => done(error)));
  producer.setPollInterval(10);
  const event = (id: string, ...extra: string[]): Buffer =>
    rawEvent({ event_id: `"${id}"`, ts: String(Date.now()) }, ...extra);
  const huge = event('evt-huge', `"padding":"${'x'.repeat(HUGE_EVENT_BYTES)}"`);
  const values = [event('evt-before'), huge, event('evt-after')];
  let acknowledged = 0;
  const all = new Promise<void>((resolve, reject) => {
    producer.on('delivery-report', (error) => {
      if (error) reject(new Error(`producing the test events failed: ${error.message}`));
      else if (++acknowledged === values.length) resolve();
    });
  });
  for (const [i, value] of values.entries()) producer.produce(topic, 0, value, `k${i}`);
  await all;
  await call('disconnect', (done) => producer.disconnect((error) => done(error)));
}

afterAll(async () => {
  await deleteTopicsWithPrefix(brokers, 't-oversized-');
});

describe('a raw event whose dead letter exceeds the producer message size', () => {
  it('dead-letters it with its original truncated (and says so) instead of retrying the batch forever', async () => {
    const prefix = uniquePrefix('oversized');
    await createTopics(brokers, [{ name: `${prefix}requests.raw`, partitions: 1, cleanupPolicy: 'delete' }]);
    await produceAroundHugeEvent(`${prefix}requests.raw`);
    const env = processEnv(
      { brokers, registryUrl, prefix, stateDir: join(workDir, 'state') },
      { TRIBUTARY_INSTANCE_ID: '0', TRIBUTARY_DEFAULT_PARTITIONS: '1' },
    );
    const ingest = startProcessor('ingest', env, join(workDir, 'ingest.log'));
    await waitForGroupCaughtUp(brokers, `${prefix}ingest`, `${prefix}requests.raw`, 60_000);
    expect(ingest.child.exitCode).toBeNull();

    const valid = await readTopic(brokers, `${prefix}requests.valid`, 1);
    expect(valid.map((r) => r.key).sort()).toEqual(['evt-after', 'evt-before']);
    const dlq = await readTopic(brokers, `${prefix}requests.dlq`, 1);
    expect(dlq).toHaveLength(1);
    const decoder = AvroDecoder.forWriterSchema<DeadLetterValue>(new HttpSchemaRegistry(registryUrl));
    const letter = await decoder.decodeAsync(dlq[0]?.value ?? Buffer.alloc(0));
    expect(letter.reason).toBe('oversized');
    expect(letter.source_offset).toBe(1);
    const originalBytes = HUGE_EVENT_BYTES + rawEvent().length + '"padding":"",'.length;
    expect(letter.detail).toContain(`truncated from ${originalBytes} bytes`);
    const kept = letter.original_value ?? Buffer.alloc(0);
    expect(kept.length).toBeGreaterThan(900_000);
    expect(kept.length).toBeLessThan(originalBytes);
    expect(kept.subarray(0, 20).toString()).toBe('{"event_id":"evt-hug');

    ingest.kill('SIGTERM');
    expect((await ingest.exited).code).toBe(0);
  });
});
