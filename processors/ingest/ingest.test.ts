import { describe, expect, it } from 'vitest';
import { runInMemory } from '../../runtime/testing/run-in-memory.ts';
import { ingest } from './ingest.ts';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

function raw(eventId: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    event_id: eventId,
    ts: NOW - 1000,
    service: ' Checkout ',
    endpoint: '/api/orders/{id}',
    method: 'post',
    status: 201,
    latency_ms: 12.5,
    bytes_out: 512,
    customer_id: 'C-1',
    region: 'EU-West',
    ...extra,
  });
}

describe('ingest', () => {
  it('writes the normalised Avro event keyed by event_id, with ingested_at = arrival time', async () => {
    const run = await runInMemory(ingest, [{ key: 'e1', value: raw('e1'), timestamp: NOW }]);
    const [valid] = run.outputs['valid'] ?? [];
    expect(valid?.key).toBe('e1');
    expect(valid?.value).toEqual({
      event_id: 'e1',
      ts: NOW - 1000,
      service: 'checkout',
      endpoint: '/api/orders/{id}',
      method: 'POST',
      status: 201,
      latency_ms: 12.5,
      bytes_out: 512,
      customer_id: 'c-1',
      region: 'eu-west',
      ingested_at: NOW,
    });
  });

  it('accounts for every input as exactly one valid event, dead letter or counted duplicate', async () => {
    const inputs = [
      { key: 'a', value: raw('a'), timestamp: NOW },
      { key: 'b', value: '{"event_id":', timestamp: NOW },
      { key: 'a', value: raw('a'), timestamp: NOW + 5 },
      { key: 'c', value: raw('c', { status: 700 }), timestamp: NOW },
      { key: 'd', value: raw('d'), timestamp: NOW, partition: 1 },
    ];
    const run = await runInMemory(ingest, inputs, { batchSize: 2 });
    expect(run.outputs['valid']?.map((o) => o.key)).toEqual(['a', 'd']);
    expect(run.deadLetters.map((d) => [d.reason, d.source_offset, d.original_value?.toString()])).toEqual([
      ['malformed_json', 1, '{"event_id":'],
      ['out_of_range', 3, raw('c', { status: 700 })],
    ]);
    expect(run.counted.get('duplicate')).toBe(1);
  });

  it('forgets an event_id after the horizon, so a much later repeat is a new event', async () => {
    const run = await runInMemory(
      ingest,
      [
        { key: 'x', value: raw('x'), timestamp: NOW },
        { key: 'x', value: raw('x'), timestamp: NOW + 60_000 },
        { key: 'x', value: raw('x', { ts: NOW + 200_000 }), timestamp: NOW + 200_000 },
      ],
      { config: { dedupHorizonMs: 100_000 } },
    );
    expect(run.outputs['valid']).toHaveLength(2);
    expect(run.counted.get('duplicate')).toBe(1);
  });

  it('does not remember the id of a rejected event', async () => {
    const run = await runInMemory(ingest, [
      { key: 'y', value: raw('y', { latency_ms: -1 }), timestamp: NOW },
      { key: 'y', value: raw('y'), timestamp: NOW },
    ]);
    expect(run.deadLetters).toHaveLength(1);
    expect(run.outputs['valid']).toHaveLength(1);
  });
});
