// request_stats_1m on a real embedded engine: StatsMinute rows written through the sink's own encoder
// and insert, every revision a row; latencySketchQuantile over sumMap(latency_sketch) gives, for any
// rollup (across endpoints, regions, minutes, revisions), the quantile LatencySketch gives for the same
// buckets, and the counters sum exactly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatencySketch, avro, createLogger } from '../../runtime/index.ts';
import type { SinkRecord, StatsMinute } from '../../runtime/index.ts';
import { lognormalLatencies, paretoLatencies } from '../../runtime/testing/seeded-latencies.ts';
import { openClickHouse } from './connection.ts';
import { ClickHouseConnector } from './connector.ts';
import { migrate } from './migrations.ts';
import { describeTable } from './tables.ts';

const workDir = mkdtempSync(join(tmpdir(), 'tributary-request-stats-'));
const log = createLogger({ name: 'test', level: 'silent', pretty: false });
const handle = openClickHouse(
  {
    clickhouseUser: 'default',
    clickhousePassword: '',
    clickhouseDatabase: 'default',
    clickhouseDataDir: join(workDir, 'clickhouse'),
  },
  'request-stats-test',
);
const T0 = Date.UTC(2026, 11, 2, 1, 0, 0);
const MINUTE = 60_000;
const TOPIC = 'stats.1m';

/** One row per (service, endpoint, region, minute, revision), its latencies kept to rebuild sketches from. */
interface Row {
  stats: StatsMinute;
  latencies: number[];
}

function statsRow(
  group: Pick<StatsMinute, 'service' | 'endpoint' | 'region'>,
  minute: number,
  revision: number,
  latencies: number[],
): StatsMinute {
  const sketch = new LatencySketch();
  for (const ms of latencies) sketch.add(ms);
  const buckets = sketch.toBuckets();
  const requests = latencies.length;
  return {
    ...group,
    window_start: T0 + minute * MINUTE,
    window_end: T0 + (minute + 1) * MINUTE,
    revision,
    requests,
    status_1xx: 0,
    status_2xx: requests - (requests >> 3),
    status_3xx: 0,
    status_4xx: requests >> 4,
    status_5xx: (requests >> 3) - (requests >> 4),
    latency_count: requests,
    latency_sum_ms: latencies.reduce((a, b) => a + b, 0),
    latency_min_ms: Math.min(...latencies),
    latency_max_ms: Math.max(...latencies),
    bytes_out: requests * 512,
    sketch_relative_accuracy: buckets.relativeAccuracy,
    sketch_zero_count: buckets.zeroCount,
    sketch_bucket_index: buckets.index,
    sketch_bucket_count: buckets.count,
    service_rows: 4,
    team: 'payments',
    tier: 1,
    latency_slo_ms: 250,
    availability_slo: 0.999,
  };
}

/** 2 services x 2 endpoints x 2 regions x 5 minutes; some windows get late corrections (revisions 1, 2). */
function buildRows(): Row[] {
  const rows: Row[] = [];
  let seed = 1;
  let windows = 0;
  for (const service of ['checkout', 'search'])
    for (const endpoint of ['/api/a', '/api/b/{id}'])
      for (const region of ['eu-west-1', 'us-east-1'])
        for (let minute = 0; minute < 5; minute++) {
          const revisions = (windows++ % 3) + 1;
          for (let revision = 0; revision < revisions; revision++) {
            const n = revision === 0 ? 150 + ((seed * 37) % 200) : 3 + (seed % 5);
            const latencies =
              service === 'search'
                ? paretoLatencies(n, 2, 1.3, seed++)
                : [...lognormalLatencies(n, 40, 1, seed++), ...(minute === 2 ? [0, 0] : [])];
            rows.push({
              stats: statsRow({ service, endpoint, region }, minute, revision, latencies),
              latencies,
            });
          }
        }
  return rows;
}

const rows = buildRows();

beforeAll(async () => {
  await migrate(handle.client, log);
  const tables = new Map([
    ['request_stats_1m', await describeTable(handle.client, 'default', 'request_stats_1m')],
  ]);
  const connector = new ClickHouseConnector(handle.client, tables, () => Promise.resolve());
  const binding = { topic: TOPIC, value: avro('StatsMinute'), target: 'request_stats_1m' };
  const encoded = rows.map(({ stats }, offset) => {
    const record: SinkRecord = {
      binding,
      topic: TOPIC,
      partition: 0,
      offset,
      timestamp: T0,
      value: { ...stats },
    };
    return connector.encode(record);
  });
  await connector.write({ target: 'request_stats_1m', rows: encoded, dedupToken: 'request-stats-test-0' });
});

afterAll(async () => {
  await handle.close();
  rmSync(workDir, { recursive: true, force: true });
});

/** Rollups as (SQL grouping expression, the same key for a row in TypeScript). */
const ROLLUPS: Array<[string, string, (s: StatsMinute) => string]> = [
  [
    'a window, over its revisions',
    "concat(service, '|', endpoint, '|', region, '|', toString(toUnixTimestamp64Milli(window_start)))",
    (s) => `${s.service}|${s.endpoint}|${s.region}|${s.window_start}`,
  ],
  [
    'a service minute, across endpoints and regions',
    "concat(service, '|', toString(toUnixTimestamp64Milli(window_start)))",
    (s) => `${s.service}|${s.window_start}`,
  ],
  [
    'an endpoint across regions and minutes',
    "concat(service, '|', endpoint)",
    (s) => `${s.service}|${s.endpoint}`,
  ],
  ['a region across services, endpoints and minutes', 'region', (s) => s.region],
  ['everything', "'all'", () => 'all'],
];
const QUANTILES = [0.5, 0.9, 0.99];

interface QuantileRow {
  key: string;
  q: number[];
  requests: string;
}

describe('request_stats_1m and latencySketchQuantile', () => {
  it.each(ROLLUPS)('give the TypeScript sketch quantiles over %s', async (_name, sqlKey, rowKey) => {
    const result = await handle.client.query({
      query: `SELECT ${sqlKey} AS key, sum(requests) AS requests,
          [${QUANTILES.map((q) => `latencySketchQuantile(${q}, sumMap(latency_sketch), sum(sketch_zero_count), any(sketch_relative_accuracy))`).join(', ')}] AS q
        FROM request_stats_1m GROUP BY key ORDER BY key`,
      format: 'JSONEachRow',
    });
    const fromSql = await result.json<QuantileRow>();
    const sketches = new Map<string, { sketch: LatencySketch; requests: number }>();
    for (const { stats } of rows) {
      const entry = sketches.get(rowKey(stats)) ?? { sketch: new LatencySketch(), requests: 0 };
      entry.sketch.merge(
        LatencySketch.fromBuckets({
          relativeAccuracy: stats.sketch_relative_accuracy,
          zeroCount: stats.sketch_zero_count,
          index: stats.sketch_bucket_index,
          count: stats.sketch_bucket_count,
        }),
      );
      entry.requests += stats.requests;
      sketches.set(rowKey(stats), entry);
    }
    expect(fromSql.map((r) => r.key)).toEqual([...sketches.keys()].sort());
    for (const row of fromSql) {
      const expected = sketches.get(row.key);
      expect(Number(row.requests)).toBe(expected?.requests);
      QUANTILES.forEach((q, i) => {
        const ts = expected?.sketch.quantile(q) as number;
        expect(Math.abs((row.q[i] as number) - ts) / ts, `${row.key} q=${q}`).toBeLessThanOrEqual(1e-12);
      });
    }
  });

  it('answers 0 for a quantile in the zero bucket and NaN for no buckets at all', async () => {
    const result = await handle.client.query({
      query: `SELECT latencySketchQuantile(0.5, map(3, 1), 5, 0.01) AS zero,
          isNaN(latencySketchQuantile(0.5, CAST(map(), 'Map(Int32, UInt64)'), 0, 0.01)) AS empty`,
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ zero: number; empty: number }>();
    expect(row).toEqual({ zero: 0, empty: 1 });
  });

  it('keeps every counter, revision and sketch array as written (sums over revisions exact)', async () => {
    const result = await handle.client.query({
      query: `SELECT count() AS rows, sum(requests) AS requests, sum(status_5xx) AS s5, sum(bytes_out) AS bytes,
          min(latency_min_ms) AS min, max(latency_max_ms) AS max, max(revision) AS revisions,
          sum(length(sketch_bucket_index)) AS buckets, sum(arraySum(mapValues(latency_sketch))) AS bucketed
        FROM request_stats_1m`,
      format: 'JSONEachRow',
    });
    const [stored] = await result.json<Record<string, number | string>>();
    const all = rows.map((r) => r.stats);
    const sum = (f: (s: StatsMinute) => number): number => all.reduce((a, s) => a + f(s), 0);
    expect(Object.fromEntries(Object.entries(stored ?? {}).map(([k, v]) => [k, Number(v)]))).toEqual({
      rows: all.length,
      requests: sum((s) => s.requests),
      s5: sum((s) => s.status_5xx),
      bytes: sum((s) => s.bytes_out),
      min: Math.min(...all.map((s) => s.latency_min_ms)),
      max: Math.max(...all.map((s) => s.latency_max_ms)),
      revisions: 2,
      buckets: sum((s) => s.sketch_bucket_index.length),
      bucketed: sum((s) => s.requests - s.sketch_zero_count),
    });
  });
});
