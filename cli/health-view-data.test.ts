// The health view's queries against a real embedded ClickHouse holding request_stats_1m rows and alert
// edges, read the way `top` reads a stopped sink's data directory (readResults, directly from chdb).
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectRows } from '../connectors/clickhouse/query/read-results.ts';
import type { SelectRows } from '../loadgen/index.ts';
import { healthAxis, readHealth } from './health-view-data.ts';
import type { HealthSnapshot } from './health-view-data.ts';
import { MINUTE_MS, healthStore, sketchOf } from './testing/health-store.ts';
import type { StatsRowSpec } from './testing/health-store.ts';

const T0 = Date.UTC(2026, 11, 2, 3, 0, 0);
const RUN = 'run-a.';
const fast = (n: number, seed: number): number[] =>
  Array.from({ length: n }, (_, i) => 20 + ((i * seed) % 40));
const slow = (n: number): number[] => Array.from({ length: n }, (_, i) => 100 + i * 7);

// checkout: minutes 0-3 (minute 2 missing, minute 3 with a late correction and a new, lower SLO);
// search: minute 3 only. run-b. holds the same minutes with other numbers: never mixed in.
const STATS: StatsRowSpec[] = [
  ...[0, 1, 3].map((m) => ({
    topic: `${RUN}stats.1m`,
    service: 'checkout',
    windowStartMs: T0 + m * MINUTE_MS,
    requests: 120 + m,
    errors5xx: m,
    latencies: m === 3 ? slow(120 + m) : fast(120 + m, m + 1),
    latencySloMs: m === 3 ? 200 : 250,
    availabilitySlo: 0.999,
  })),
  {
    topic: `${RUN}stats.1m`,
    service: 'checkout',
    windowStartMs: T0 + 3 * MINUTE_MS,
    revision: 1,
    requests: 4,
    errors5xx: 2,
    latencies: [900, 950, 990, 999],
    latencySloMs: null,
    availabilitySlo: null,
  },
  {
    topic: `${RUN}stats.1m`,
    service: 'search',
    windowStartMs: T0 + 3 * MINUTE_MS,
    requests: 60,
    errors5xx: 0,
    latencies: fast(60, 3),
    latencySloMs: null,
    availabilitySlo: null,
  },
  {
    topic: 'run-b.stats.1m',
    service: 'checkout',
    windowStartMs: T0 + 5 * MINUTE_MS,
    requests: 999,
    errors5xx: 999,
    latencies: [1],
    latencySloMs: 1,
    availabilitySlo: 0.5,
  },
];

const ALERTS = [
  {
    topic: `${RUN}alerts`,
    alertId: 'a1',
    state: 'FIRING' as const,
    service: 'checkout',
    atMs: T0 + MINUTE_MS,
  },
  {
    topic: `${RUN}alerts`,
    alertId: 'a1',
    state: 'RESOLVED' as const,
    service: 'checkout',
    atMs: T0 + 2 * MINUTE_MS,
  },
  {
    topic: `${RUN}alerts`,
    alertId: 'a2',
    state: 'FIRING' as const,
    service: 'search',
    atMs: T0 + 3 * MINUTE_MS,
  },
  // The same alert id resolved under another prefix (alert ids carry no prefix): a2 is still firing here.
  {
    topic: 'run-b.alerts',
    alertId: 'a2',
    state: 'RESOLVED' as const,
    service: 'search',
    atMs: T0 + 4 * MINUTE_MS,
  },
];

let dataDir = '';
let select: SelectRows = () => Promise.resolve([]);
const selectIn =
  (dir: string): SelectRows =>
  async (sql) =>
    (
      await selectRows(sql, {
        clickhouseUser: 'default',
        clickhousePassword: '',
        clickhouseDatabase: 'default',
        clickhouseDataDir: dir,
        queryPort: -1,
      })
    ).data;

beforeAll(async () => {
  dataDir = await healthStore(STATS, ALERTS);
  select = selectIn(dataDir);
});

afterAll(() => rmSync(dirname(dataDir), { recursive: true, force: true }));

async function snapshot(points: number, stepMinutes: number): Promise<HealthSnapshot> {
  const read = await readHealth(select, { prefix: RUN, points, stepMinutes });
  if (read.state !== 'ok') throw new Error(`expected stats, got ${read.state}`);
  return read.snapshot;
}

const p99Of = (rows: readonly StatsRowSpec[]): number => {
  const merged = sketchOf(rows.flatMap((r) => r.latencies));
  return merged.quantile(0.99);
};

describe('the health view reads request_stats_1m', () => {
  it('per minute, ending at the latest window: sums over revisions, p99 of merged sketches, latest SLOs', async () => {
    const view = await snapshot(4, 1);
    expect(view.axis).toEqual({ fromMs: T0, stepMinutes: 1, points: 4 });
    expect(view.latestWindowMs).toBe(T0 + 3 * MINUTE_MS);
    expect(view.services.map((s) => s.service)).toEqual(['checkout', 'search']);
    const [checkout, search] = view.services;
    expect(checkout?.points.map((p) => p?.requests)).toEqual([120, 121, undefined, 127]);
    expect(checkout?.points.map((p) => p?.errors5xx)).toEqual([0, 1, undefined, 5]);
    const minute3 = STATS.filter(
      (r) =>
        r.topic === `${RUN}stats.1m` && r.service === 'checkout' && r.windowStartMs === T0 + 3 * MINUTE_MS,
    );
    expect(minute3).toHaveLength(2);
    const p99 = checkout?.points[3]?.p99Ms ?? NaN;
    expect(Math.abs(p99 - p99Of(minute3)) / p99Of(minute3)).toBeLessThan(1e-9);
    // The correction row has no SLO (a reference miss): the revision-0 row's SLO stands.
    expect(checkout?.points[3]).toMatchObject({ latencySloMs: 200, availabilitySlo: 0.999 });
    expect(checkout?.points[0]).toMatchObject({ latencySloMs: 250 });
    expect(search?.points.map((p) => p?.requests)).toEqual([undefined, undefined, undefined, 60]);
    expect(search?.points[3]).toMatchObject({ latencySloMs: undefined, availabilitySlo: undefined });
  });

  it('merges the sketches of every minute a point covers when a point is two minutes', async () => {
    const view = await snapshot(2, 2);
    expect(view.axis).toEqual(healthAxis(T0 + 3 * MINUTE_MS, 2, 2));
    expect(view.axis.fromMs).toBe(T0);
    const checkout = view.services[0];
    expect(checkout?.points.map((p) => p?.requests)).toEqual([241, 127]);
    const first = STATS.filter(
      (r) => r.topic === `${RUN}stats.1m` && r.service === 'checkout' && r.windowStartMs < T0 + 2 * MINUTE_MS,
    );
    const p99 = checkout?.points[0]?.p99Ms ?? NaN;
    expect(Math.abs(p99 - p99Of(first)) / p99Of(first)).toBeLessThan(1e-9);
  });

  it("reads the run's alert episodes only, firing or resolved, though alert ids repeat across prefixes", async () => {
    const view = await snapshot(4, 1);
    const episodes = view.episodes.map((e) => [e.alertId, e.service, e.firingAt, e.resolvedAt]);
    expect(episodes).toEqual([
      ['a1', 'checkout', T0 + MINUTE_MS, T0 + 2 * MINUTE_MS],
      ['a2', 'search', T0 + 3 * MINUTE_MS, undefined],
    ]);
  });

  it('says when the prefix has no stats, naming the prefixes that do', async () => {
    expect(await readHealth(select, { prefix: 'nope.', points: 4, stepMinutes: 1 })).toEqual({
      state: 'empty',
      statsTopic: 'nope.stats.1m',
      otherTopics: ['run-b.stats.1m', 'run-a.stats.1m'],
    });
  });

  it('says when the store has no request_stats_1m table at all', async () => {
    const bare = await healthStore([], [], false);
    try {
      expect(await readHealth(selectIn(bare), { prefix: '', points: 4, stepMinutes: 1 })).toEqual({
        state: 'no-table',
      });
    } finally {
      rmSync(dirname(bare), { recursive: true, force: true });
    }
  });
});
