// The Kafka Streams peers compute what they claim, so the benchmark compares like with like: the
// pass-through copies bytes unchanged, the aggregate's closed windows equal the generator's truth and it
// counts the late events it drops.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import type { EnrichedRequest, StatsMinute } from '../runtime/contracts/index.ts';
import { HEADER_LENGTH, loadSchemas } from '../runtime/serde/index.ts';
import { kafkaTestScope, produceRecords, readTopic } from '../runtime/testing/kafka-test-kit.ts';
import { produceAggregateBacklog } from './aggregate-backlog.ts';
import { measureKafkaStreams } from './kafka-streams-peers.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const workDir = mkdtempSync(join(tmpdir(), 'tributary-kstreams-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const MINUTE = 60_000;
const GRACE_MS = 60_000;

function groupWindow(e: Pick<EnrichedRequest, 'service' | 'endpoint' | 'region'>, start: number): string {
  return `${e.service}|${e.endpoint}|${e.region}|${start}`;
}

/** requests, 5xx, latency sum/min/max and bytes per (group, window) of the events given. */
function truth(events: readonly EnrichedRequest[]): Map<string, number[]> {
  const cells = new Map<string, number[]>();
  for (const e of events) {
    const key = groupWindow(e, e.ts - (e.ts % MINUTE));
    const c = cells.get(key) ?? [0, 0, 0, Infinity, -Infinity, 0];
    cells.set(key, [
      (c[0] ?? 0) + 1,
      (c[1] ?? 0) + (e.status >= 500 ? 1 : 0),
      (c[2] ?? 0) + e.latency_ms,
      Math.min(c[3] ?? Infinity, e.latency_ms),
      Math.max(c[4] ?? -Infinity, e.latency_ms),
      (c[5] ?? 0) + e.bytes_out,
    ]);
  }
  return cells;
}

describe('Kafka Streams peers', () => {
  it('pass-through copies every record, key and value bytes unchanged', async () => {
    const scope = kafkaTestScope(brokers, 'kspass', onTestFinished);
    const input = await scope.topic('in', { partitions: 2, cleanupPolicy: 'delete' });
    const records = Array.from({ length: 2000 }, (_, i) => ({
      key: `k${i}`,
      value: Buffer.from([i % 256, 0, i >> 8]),
    }));
    await produceRecords(brokers, input, records);
    const result = await measureKafkaStreams({
      mode: 'passthrough',
      brokers,
      applicationId: scope.name('app'),
      inputTopic: input,
      outputTopic: scope.name('out'),
      partitions: 2,
      records: records.length,
      workDir,
    });
    const copied = await readTopic(brokers, scope.name('out'), 2);
    const byKey = new Map(copied.map((r) => [r.key, r.value?.toString('hex')]));
    expect(copied).toHaveLength(records.length);
    for (const r of records) expect(byKey.get(r.key)).toBe(r.value.toString('hex'));
    expect(result.droppedRecords).toBe(0);
  });

  it('aggregate emits each closed window once with the truth of its on-time events and counts the late it drops', async () => {
    const scope = kafkaTestScope(brokers, 'ksagg', onTestFinished);
    const backlog = await produceAggregateBacklog({
      brokers,
      registryUrl,
      topic: scope.name('requests.enriched'),
      partitions: 3,
      events: 20_000,
      eventMinutes: 8,
    });
    const result = await measureKafkaStreams({
      mode: 'aggregate',
      brokers,
      applicationId: scope.name('app'),
      inputTopic: backlog.topic,
      outputTopic: scope.name('stats.1m'),
      partitions: 3,
      records: backlog.records,
      workDir,
      graceMs: GRACE_MS,
    });
    const type = loadSchemas().get('StatsMinute')?.type;
    const rows = (await readTopic(brokers, scope.name('stats.1m'), 3)).map(
      (r) => type?.fromBuffer(r.value?.subarray(HEADER_LENGTH) ?? Buffer.alloc(0)) as StatsMinute,
    );
    // The generator's late events are 2-10 minutes behind, beyond a 60 s grace: exactly those are dropped.
    expect(backlog.lateByGenerator).toBeGreaterThan(0);
    expect(result.droppedRecords).toBe(backlog.lateByGenerator);
    const expected = truth(backlog.events.filter((e) => !e.late).map((e) => e.value));
    const emitted = new Set<string>();
    for (const row of rows) {
      const key = groupWindow(row, row.window_start);
      expect(emitted.has(key), `${key} emitted twice`).toBe(false);
      emitted.add(key);
      const { requests, status_5xx, latency_sum_ms, latency_min_ms, latency_max_ms, bytes_out } = row;
      expect([requests, status_5xx, latency_sum_ms, latency_min_ms, latency_max_ms, bytes_out]).toEqual(
        expected.get(key),
      );
      expect(row.sketch_bucket_count.reduce((a, b) => a + b, 0) + row.sketch_zero_count).toBe(requests);
    }
    // Every window that closed before the backlog's stream time (end + grace) was emitted.
    const streamTime = Math.max(...backlog.events.map((e) => e.value.ts));
    const closed = [...expected.keys()].filter(
      (k) => Number(k.split('|')[3]) + MINUTE + GRACE_MS <= streamTime,
    );
    expect(closed.length).toBeGreaterThan(100);
    for (const key of closed) expect(emitted.has(key), `${key} not emitted`).toBe(true);
  });
});
