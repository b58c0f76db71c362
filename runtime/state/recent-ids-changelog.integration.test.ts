// The recent-ids changelog through a real broker: created with its compaction settings, written with
// stream-time timestamps, restored by the production reader to exactly the ids within the horizon.
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  createTopics,
  deleteTopicsWithPrefix,
  produceRecords,
  uniquePrefix,
} from '../testing/kafka-test-kit.ts';
import type { TestRecord } from '../testing/kafka-test-kit.ts';
import { readPartitionsToEnd } from '../kafka/index.ts';
import type { OutgoingMessage } from '../kafka/index.ts';
import { createLogger } from '../observability/index.ts';
import { StateManager } from './state-manager.ts';
import type { ChangelogReader } from './state-manager.ts';
import { changelogTopicConfig, recentIds } from './declarations.ts';
import { PartitionRecentIds } from './recent-ids.ts';

const brokers = inject('brokers');
const prefix = uniquePrefix('recent-ids');
const log = createLogger({ name: 'test', level: 'silent', pretty: false });
const MINUTE = 60_000;
const declaration = recentIds({ horizonMs: () => 2 * MINUTE, maxIdsPerPartition: () => 1_000_000 });

afterAll(() => deleteTopicsWithPrefix(brokers, prefix));

function manager(topic: string): StateManager {
  const reader: ChangelogReader = (t, partitions, onRecord) =>
    readPartitionsToEnd({ brokers, topic: t, partitions }, (m) =>
      onRecord(m.partition, m.key === undefined || m.key === null ? null : Buffer.from(m.key), m.value),
    );
  return new StateManager({
    declarations: { seen: declaration },
    changelogTopicFor: () => topic,
    readChangelog: reader,
    log,
  });
}

function toRecord(m: OutgoingMessage): TestRecord {
  const record: TestRecord = { key: m.key?.toString() ?? null, value: m.value, partition: m.partition ?? 0 };
  if (m.timestamp !== undefined) record.timestamp = m.timestamp;
  return record;
}

function ids(state: StateManager, partition: number): PartitionRecentIds {
  const store = state.store('seen', partition);
  if (!(store instanceof PartitionRecentIds)) throw new TypeError('not a recent-ids store');
  return store;
}

describe('recent-ids changelog on a real broker', () => {
  it('restores exactly the ids within the horizon after 20 minutes of stream time', async () => {
    const topic = `${prefix}ingest.seen.changelog`;
    const { cleanupPolicy, segmentMs, extra } = changelogTopicConfig(declaration, {});
    await createTopics(brokers, [
      {
        name: topic,
        partitions: 2,
        cleanupPolicy,
        ...(segmentMs === undefined ? {} : { segmentMs }),
        ...(extra === undefined ? {} : { extraConfig: extra }),
      },
    ]);
    const writer = manager(topic);
    await writer.sync([0, 1]);
    const start = Date.now() - 20 * MINUTE;
    const written: TestRecord[] = [];
    for (let second = 0; second < 20 * 60; second++) {
      for (let i = 0; i < 50; i++) ids(writer, i % 2).add(`id-${second}-${i}`, start + second * 1000);
      if (second % 20 === 19) {
        for (const m of writer.changelogMessages()) written.push(toRecord(m));
        writer.commit();
      }
    }
    await produceRecords(brokers, topic, written);
    const restored = manager(topic);
    await restored.sync([0, 1]);
    const end = start + (20 * 60 - 1) * 1000;
    for (const p of [0, 1]) {
      expect(ids(restored, p).size).toBe(ids(writer, p).size);
      expect(ids(restored, p).size).toBeGreaterThanOrEqual(2 * 60 * 25);
    }
    expect(ids(restored, 1).has('id-1199-1', end)).toBe(true);
    expect(ids(restored, 0).has(`id-${20 * 60 - 120}-0`, end)).toBe(true);
    expect(ids(restored, 0).has('id-600-0', end)).toBe(false);
    expect(ids(restored, 0).has('id-1199-1', end)).toBe(false);
  }, 120_000);
});
