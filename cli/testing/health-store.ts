// An embedded ClickHouse data directory for the health view's tests: the sink's migrations applied, then
// a few request_stats_1m rows (latency sketches built with the runtime's LatencySketch) and alert edges
// inserted with plain SQL. The directory is released afterwards, so readers open it as `top` does.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LatencySketch, createLogger } from '../../runtime/index.ts';
import { openClickHouse } from '../../connectors/clickhouse/connection.ts';
import { migrate } from '../../connectors/clickhouse/migrations.ts';
import { sqlString } from '../health-view-data.ts';

export const MINUTE_MS = 60_000;

/** One (service, minute, revision) row: counters, the latencies its sketch holds, the SLOs enrich joined. */
export interface StatsRowSpec {
  topic: string;
  service: string;
  windowStartMs: number;
  revision?: number;
  requests: number;
  errors5xx: number;
  latencies: number[];
  latencySloMs: number | null;
  availabilitySlo: number | null;
}

export interface AlertEdgeSpec {
  topic: string;
  alertId: string;
  state: 'FIRING' | 'RESOLVED';
  service: string;
  atMs: number;
}

export function sketchOf(latencies: readonly number[]): LatencySketch {
  const sketch = new LatencySketch();
  for (const ms of latencies) sketch.add(ms);
  return sketch;
}

const dateTime = (ms: number): string => `fromUnixTimestamp64Milli(toInt64(${ms}), 'UTC')`;
const nullable = (v: number | null): string => (v === null ? 'NULL' : String(v));

function statsValues(row: StatsRowSpec, offset: number): string {
  const buckets = sketchOf(row.latencies).toBuckets();
  return `(${[
    sqlString(row.service),
    "'/api/x'",
    "'eu-west-1'",
    dateTime(row.windowStartMs),
    dateTime(row.windowStartMs + MINUTE_MS),
    row.revision ?? 0,
    row.requests,
    row.requests - row.errors5xx,
    row.errors5xx,
    row.latencies.length,
    buckets.relativeAccuracy,
    buckets.zeroCount,
    `[${buckets.index.join(',')}]`,
    `[${buckets.count.join(',')}]`,
    nullable(row.latencySloMs),
    nullable(row.availabilitySlo),
    sqlString(row.topic),
    offset,
  ].join(', ')})`;
}

function alertValues(edge: AlertEdgeSpec, offset: number): string {
  return `(${[
    sqlString(edge.alertId),
    sqlString(edge.state),
    "'HighErrorRatio'",
    "'error_ratio'",
    "'page'",
    sqlString(edge.service),
    dateTime(edge.atMs),
    dateTime(edge.atMs),
    sqlString(edge.topic),
    offset,
  ].join(', ')})`;
}

/** A fresh data directory holding `stats` and `alerts`; `migrated: false` leaves it without tables. */
export async function healthStore(
  stats: readonly StatsRowSpec[],
  alerts: readonly AlertEdgeSpec[],
  migrated = true,
): Promise<string> {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'tributary-health-')), 'clickhouse');
  const settings = {
    clickhouseUser: 'default',
    clickhousePassword: '',
    clickhouseDatabase: 'default',
    clickhouseDataDir: dataDir,
  };
  const handle = openClickHouse(settings, 'health-store');
  try {
    if (!migrated) return dataDir;
    await migrate(handle.client, createLogger({ name: 'test', level: 'silent', pretty: false }));
    if (stats.length > 0)
      await handle.client.command({
        query: `INSERT INTO request_stats_1m (service, endpoint, region, window_start, window_end, revision,
            requests, status_2xx, status_5xx, latency_count, sketch_relative_accuracy, sketch_zero_count,
            sketch_bucket_index, sketch_bucket_count, latency_slo_ms, availability_slo, _topic, _offset)
          VALUES ${stats.map(statsValues).join(', ')}`,
      });
    if (alerts.length > 0)
      await handle.client.command({
        query: `INSERT INTO alerts (alert_id, state, rule, kind, severity, service, episode_start, at, _topic, _offset)
          VALUES ${alerts.map(alertValues).join(', ')}`,
      });
    return dataDir;
  } finally {
    await handle.close();
  }
}
