// Finding 7 (issue 9): the dedup horizon was silently shorter than configured, because a per-partition
// cap of 100,000 ids forgot ids long before the horizon at the demo's rates. Time is the records' arrival
// time (Kafka timestamps), so minutes pass without waiting.
import { describe, expect, it } from 'vitest';
import { runInMemory } from '../../runtime/testing/run-in-memory.ts';
import type { InMemoryInput } from '../../runtime/testing/run-in-memory.ts';
import { ingest } from './ingest.ts';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

function event(id: string, arrivedAt: number): InMemoryInput {
  const value = `{"event_id":"${id}","ts":${arrivedAt - 500},"service":"checkout","endpoint":"/api/orders/{id}","method":"GET","status":200,"latency_ms":12.5,"bytes_out":512,"customer_id":"c-1","region":"eu-west"}`;
  return { key: id, value, timestamp: arrivedAt };
}

/** `count` distinct events on one partition, evenly spread over `spanMs` after `from`. */
function traffic(count: number, from: number, spanMs: number): InMemoryInput[] {
  return Array.from({ length: count }, (_, i) => event(`evt-${i}`, from + Math.floor((i * spanMs) / count)));
}

describe('ingest dedup horizon', () => {
  it('drops a repeat 9 minutes later with 150,000 other ids between (the 100,000-id cap forgot it)', async () => {
    const inputs = [
      event('retried', T0),
      ...traffic(150_000, T0 + 1, 9 * 60_000),
      event('retried', T0 + 9 * 60_000),
    ];
    const run = await runInMemory(ingest, inputs, { batchSize: 5000 });
    expect(run.counted.get('duplicate')).toBe(1);
    expect(run.outputs['valid']).toHaveLength(150_001);
  }, 60_000);
});
