// The per-window accumulator: counts, status classes, latency sum/min/max, bytes and the sketch, kept as
// plain JSON that a store can hold, and the StatsMinute row it turns into (valid under the Avro schema).
import { describe, expect, it } from 'vitest';
import type { EnrichedRequest } from '../../runtime/index.ts';
import { LatencySketch, TributaryError } from '../../runtime/index.ts';
import { loadSchemas } from '../../runtime/serde/schema-loader.ts';
import {
  addRequest,
  addRequestInPlace,
  emptyWindowStats,
  statusClass,
  toStatsMinute,
} from './window-stats.ts';
import type { WindowStats } from './window-stats.ts';

const T0 = Date.UTC(2026, 11, 2, 1, 0, 0);
const GROUP = { service: 'checkout', endpoint: '/api/orders/{id}', region: 'eu-west-1' };
const WINDOW = { start: T0, end: T0 + 60_000 };

function request(
  status: number,
  latencyMs: number,
  bytesOut: number,
  team: string | null = 'payments',
): EnrichedRequest {
  return {
    event_id: `e-${status}-${latencyMs}`,
    ts: T0 + 1000,
    ...GROUP,
    method: 'GET',
    status,
    latency_ms: latencyMs,
    bytes_out: bytesOut,
    customer_id: 'c-1',
    ingested_at: T0 + 2000,
    team,
    tier: team === null ? null : 1,
    latency_slo_ms: team === null ? null : 250,
    availability_slo: team === null ? null : 0.999,
    plan: 'pro',
    account_region: 'eu-west-1',
    service_miss: team === null ? 'unknown_key' : null,
    customer_miss: null,
  };
}

function fold(events: readonly EnrichedRequest[]): WindowStats {
  return events.reduce(addRequest, emptyWindowStats());
}

const EVENTS = [
  request(200, 12.5, 500),
  request(204, 30, 0),
  request(302, 1.25, 120),
  request(404, 7, 90),
  request(503, 250.75, 40),
  request(99, 0, 10), // outside 100-599: counted as 1xx, per the schema
  request(200, 80, 1000, null),
];

describe('window stats', () => {
  it('adds up requests, status classes, latency sum/min/max and bytes', () => {
    const stats = fold(EVENTS);
    expect(stats).toMatchObject({
      requests: 7,
      status_1xx: 1,
      status_2xx: 3,
      status_3xx: 1,
      status_4xx: 1,
      status_5xx: 1,
      latency_sum_ms: 12.5 + 30 + 1.25 + 7 + 250.75 + 0 + 80,
      latency_min_ms: 0,
      latency_max_ms: 250.75,
      bytes_out: 1760,
    });
  });

  it('classes statuses as the schema says', () => {
    const cases: Array<[number, string]> = [
      [100, 'status_1xx'],
      [199, 'status_1xx'],
      [200, 'status_2xx'],
      [299, 'status_2xx'],
      [300, 'status_3xx'],
      [499, 'status_4xx'],
      [500, 'status_5xx'],
      [599, 'status_5xx'],
      [600, 'status_1xx'],
      [0, 'status_1xx'],
    ];
    for (const [status, expected] of cases) expect(statusClass(status), String(status)).toBe(expected);
  });

  it('keeps the sketch of the latencies (the same buckets as a LatencySketch of them)', () => {
    const sketch = new LatencySketch();
    for (const event of EVENTS) sketch.add(event.latency_ms);
    expect(fold(EVENTS).sketch).toEqual(sketch.toBuckets());
  });

  it('takes the enrichment of the last request added', () => {
    expect(fold(EVENTS)).toMatchObject({
      team: null,
      tier: null,
      latency_slo_ms: null,
      availability_slo: null,
    });
    expect(fold(EVENTS.slice(0, 3))).toMatchObject({ team: 'payments', tier: 1, latency_slo_ms: 250 });
  });

  it('leaves the stats it was given unchanged (a store may still hold them for rollback)', () => {
    const before = fold(EVENTS.slice(0, 4));
    const copy = JSON.stringify(before);
    const after = addRequest(before, request(500, 999, 5));
    expect(JSON.stringify(before)).toBe(copy);
    expect(after).toMatchObject({ requests: 5, status_5xx: 1, latency_max_ms: 999 });
  });

  it('addRequestInPlace gives the same stats without a copy, changing and returning its input', () => {
    const stats = emptyWindowStats();
    for (const event of EVENTS) expect(addRequestInPlace(stats, event)).toBe(stats);
    expect(stats).toEqual(fold(EVENTS));
  });

  it('survives a JSON round trip, and adding to the restored stats equals adding to the original', () => {
    const stats = fold(EVENTS.slice(0, 5));
    const restored = JSON.parse(JSON.stringify(stats)) as WindowStats;
    expect(restored).toEqual(stats);
    const rest = EVENTS.slice(5);
    expect(rest.reduce(addRequest, restored)).toEqual(fold(EVENTS));
    expect(JSON.parse(JSON.stringify(emptyWindowStats()))).toEqual(emptyWindowStats());
  });
});

describe('toStatsMinute', () => {
  it('gives a StatsMinute row that the Avro schema accepts and decodes back to the same', () => {
    const row = toStatsMinute(GROUP, WINDOW, 2, 6, fold(EVENTS));
    expect(row).toMatchObject({
      ...GROUP,
      window_start: T0,
      window_end: T0 + 60_000,
      revision: 2,
      service_rows: 6,
      requests: 7,
      latency_count: 7,
      sketch_relative_accuracy: 0.01,
      sketch_zero_count: 1,
    });
    expect(row.sketch_bucket_index.length).toBe(row.sketch_bucket_count.length);
    const type = loadSchemas().get('StatsMinute')?.type;
    expect(type?.isValid(row)).toBe(true);
    expect(type?.fromBuffer(type.toBuffer(row))).toEqual(row);
  });

  it('refuses a window with no requests (a caller bug: such a row would poison min() in ClickHouse)', () => {
    try {
      toStatsMinute(GROUP, WINDOW, 0, 1, emptyWindowStats());
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TributaryError);
      expect((error as TributaryError).code).toBe('TRIBUTARY_STATS_EMPTY_WINDOW');
    }
  });
});
