// The stats reconcile against real embedded ClickHouse (chdb): request_stats_1m as the sink's migration
// creates it, filled with rows aggregated here from the generated events (late events as revision-1
// deltas), then compared with the run's truth.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'chdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations } from '../connectors/clickhouse/migrations.ts';
import type { Fleet } from './fleet.ts';
import type { Delivery } from './generator.ts';
import { minuteStart } from './minute-stats.ts';
import { reconcileStats, statsTableExists } from './reconcile-stats.ts';
import { generate } from './test-support.ts';
import { TruthRecorder } from './truth.ts';
import type { Truth } from './truth.ts';

const workDir = mkdtempSync(join(tmpdir(), 'tributary-reconcile-stats-'));
let session: Session;
let truth: Truth;
let rows: StatsRow[];

interface StatsRow {
  service: string;
  endpoint: string;
  region: string;
  window_start: number;
  revision: number;
  requests: number;
  classes: number[];
  latency_sum_ms: number;
  latency_min_ms: number;
  latency_max_ms: number;
  bytes_out: number;
}

/** The aggregate's rows, computed the plain way: on-time and out-of-order events in revision 0, late ones in 1. */
function aggregate(deliveries: readonly Delivery[], fleet: Fleet): StatsRow[] {
  const out = new Map<string, StatsRow>();
  for (const d of deliveries) {
    if (d.kind !== 'valid' || d.copy === 1) continue;
    const e = d.event;
    const endpoint = fleet.endpoints[e.endpoint];
    const service = fleet.services[e.service]?.name ?? '';
    const region = fleet.regions[e.region] ?? '';
    const revision = e.timing === 'late' ? 1 : 0;
    const key = [service, endpoint?.route, region, minuteStart(e.ts), revision].join('|');
    const row = out.get(key) ?? {
      ...{ service, endpoint: endpoint?.route ?? '', region, window_start: minuteStart(e.ts), revision },
      ...{ requests: 0, classes: [0, 0, 0, 0, 0], latency_sum_ms: 0, bytes_out: 0 },
      ...{ latency_min_ms: Infinity, latency_max_ms: 0 },
    };
    row.requests++;
    const statusClass = Math.floor(e.status / 100) - 1;
    row.classes[statusClass] = (row.classes[statusClass] ?? 0) + 1;
    row.latency_sum_ms += e.latencyMs;
    row.latency_min_ms = Math.min(row.latency_min_ms, e.latencyMs);
    row.latency_max_ms = Math.max(row.latency_max_ms, e.latencyMs);
    row.bytes_out += e.bytesOut;
    out.set(key, row);
  }
  return [...out.values()];
}

const dateTime = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

async function insert(topic: string, list: readonly StatsRow[]): Promise<void> {
  const lines = list.map((r, offset) =>
    JSON.stringify({
      ...{ service: r.service, endpoint: r.endpoint, region: r.region, revision: r.revision },
      window_start: dateTime(r.window_start),
      window_end: dateTime(r.window_start + 60_000),
      requests: r.requests,
      ...Object.fromEntries(r.classes.map((n, i) => [`status_${i + 1}xx`, n])),
      latency_count: r.requests,
      ...{ latency_sum_ms: r.latency_sum_ms, latency_min_ms: r.latency_min_ms },
      ...{ latency_max_ms: r.latency_max_ms, bytes_out: r.bytes_out },
      ...{ _topic: topic, _partition: 0, _offset: offset },
    }),
  );
  await session.insert({ table: 'request_stats_1m', values: lines.join('\n'), format: 'JSONEachRow' });
}

async function select(sql: string): Promise<unknown[][]> {
  return (await session.queryAsync(sql, { format: 'JSONCompact' })).json<{ data: unknown[][] }>().data;
}

/** The same truth, as if the run had used topic prefix `prefix`. */
const underPrefix = (prefix: string): Truth => ({ ...truth, topic: `${prefix}requests.raw` });

beforeAll(async () => {
  session = new Session(join(workDir, 'ch'));
  // A ClickHouse server's default (the query endpoint sets it too): 64-bit integers arrive as strings.
  await session.queryAsync('SET output_format_json_quote_64bit_integers = 1');
  // 20 minutes of event time in 3 s of wall clock, so late events land in windows long closed.
  const run = generate({ seed: 14, count: 30_000, rate: 10_000, timeScale: 400, late: 0.05 });
  const recorder = new TruthRecorder(run.fleet, run.generator.runTag);
  for (const d of run.deliveries) recorder.onAcknowledged(d);
  const meta = { run_id: 'r', topic: 'requests.raw', partitions: 6, started_at: '', finished_at: '' };
  truth = recorder.result(
    { ...meta, generator: {}, event_time: { from_ms: 0, to_ms: 0 } },
    run.generator.incidents,
  );
  rows = aggregate(run.deliveries, run.fleet);
});

afterAll(() => {
  session.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe('reconcileStats', () => {
  it('finds no table before the migration, and the table after it', async () => {
    expect(await statsTableExists(select)).toBe(false);
    const migration = loadMigrations().find((m) => m.name === '005-request-stats.sql');
    if (migration === undefined) throw new Error('no migration 005-request-stats.sql');
    for (const statement of migration.statements) await session.queryAsync(statement);
    expect(await statsTableExists(select)).toBe(true);
  });

  it('is exact when the rows hold the truth, late events as correction rows', async () => {
    expect(rows.filter((r) => r.revision === 1).length).toBeGreaterThan(100);
    expect(rows.some((r) => r.classes[2] !== 0)).toBe(true); // 3xx are there to be counted
    await insert('exact.stats.1m', rows);
    await insert('other-run.stats.1m', rows.slice(0, 50)); // another run's rows are not this run's
    const result = await reconcileStats(underPrefix('exact.'), select);
    expect(result.differences).toEqual([]);
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.rows).toBe(rows.length);
  });

  it('names the group and field of every difference: a lost row, a repeated one, a wrong count', async () => {
    // Groups without late events, so that a lost revision-0 row leaves the group with nothing.
    const group = (r: StatsRow): string => [r.service, r.endpoint, r.region, r.window_start].join('|');
    const corrected = new Set(rows.filter((r) => r.revision === 1).map(group));
    const onTimeOnly = rows.filter((r) => r.revision === 0 && !corrected.has(group(r)));
    const [lost, repeated, wrong] = onTimeOnly;
    if (lost === undefined || repeated === undefined || wrong === undefined) throw new Error('too few rows');
    const faulty = rows.filter((r) => r !== lost && r !== wrong);
    faulty.push(repeated);
    faulty.push({ ...wrong, requests: wrong.requests + 1, latency_max_ms: wrong.latency_max_ms + 0.25 });
    await insert('faulty.stats.1m', faulty);
    const result = await reconcileStats(underPrefix('faulty.'), select);
    expect(result.ok).toBe(false);
    const check = (name: string): number | undefined => result.checks.find((c) => c.check === name)?.actual;
    expect(check('groups that differ')).toBe(3);
    expect(check('rows repeating a (group, revision)')).toBe(1);
    const at = (row: StatsRow, field: string) =>
      result.differences.find(
        (d) =>
          d.service === row.service &&
          d.endpoint === row.endpoint &&
          d.region === row.region &&
          d.minute === new Date(row.window_start).toISOString().slice(0, 16) &&
          d.field === field,
      );
    expect(at(wrong, 'requests')).toMatchObject({ expected: wrong.requests, difference: 1 });
    expect(at(wrong, 'latency_max_ms')?.difference).toBe(0.25);
    expect(at(wrong, 'latency_min_ms')).toBeUndefined();
    expect(at(repeated, 'bytes_out')?.difference).toBe(repeated.bytes_out);
    expect(at(lost, 'requests')?.actual).toBe(0);
  });
});
