// The demo's closing view over a real embedded store: the run's whole event time, scoped to its topic
// prefix, its injected incidents beside the alert episodes; a store that fails is reported, not thrown.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectRows } from '../connectors/clickhouse/query/read-results.ts';
import type { SelectRows, Truth } from '../loadgen/index.ts';
import { runHealthView } from './health-view.ts';
import { MINUTE_MS, healthStore } from './testing/health-store.ts';

const T0 = Date.UTC(2026, 11, 2, 4, 0, 0);
const PREFIX = 'demo-t.';
const truth = {
  topic: `${PREFIX}requests.raw`,
  // to_ms is just after the last event: minute 9's first millisecond is not in the run.
  event_time: { from_ms: T0 + 15_000, to_ms: T0 + 10 * MINUTE_MS },
  incidents: [
    {
      service: 'checkout',
      kind: 'error_burst',
      start_ms: T0 + 3 * MINUTE_MS,
      end_ms: T0 + 5 * MINUTE_MS,
      error_rate: 0.5,
    },
  ],
} as unknown as Truth;

let dataDir = '';
let select: SelectRows = () => Promise.resolve([]);

beforeAll(async () => {
  // Minutes 0-8 of checkout (minute 9 never closed: a blank), the burst in minutes 3-4; another run's row at minute 9.
  const stats = Array.from({ length: 9 }, (_, m) => ({
    topic: `${PREFIX}stats.1m`,
    service: 'checkout',
    windowStartMs: T0 + m * MINUTE_MS,
    requests: 600,
    errors5xx: m === 3 || m === 4 ? 300 : 0,
    latencies: [10, 20],
    latencySloMs: 250,
    availabilitySlo: 0.999,
  }));
  stats.push({ ...stats[0]!, topic: 'other.stats.1m', windowStartMs: T0 + 9 * MINUTE_MS });
  const alerts = [
    {
      topic: `${PREFIX}alerts`,
      alertId: 'e1',
      state: 'FIRING' as const,
      service: 'checkout',
      atMs: T0 + 4 * MINUTE_MS,
    },
    {
      topic: `${PREFIX}alerts`,
      alertId: 'e1',
      state: 'RESOLVED' as const,
      service: 'checkout',
      atMs: T0 + 7 * MINUTE_MS,
    },
  ];
  dataDir = await healthStore(stats, alerts);
  const settings = {
    clickhouseUser: 'default',
    clickhousePassword: '',
    clickhouseDatabase: 'default',
    clickhouseDataDir: dataDir,
    queryPort: -1,
  };
  select = async (sql) => (await selectRows(sql, settings)).data;
});

afterAll(() => rmSync(dirname(dataDir), { recursive: true, force: true }));

describe("the demo's closing health view", () => {
  it("spans the run's event time and puts its incidents beside the episodes that caught them", async () => {
    const text = await runHealthView(select, truth);
    expect(text).toContain('04:00-04:10 UTC, a minute per point; latest window 04:08 UTC');
    expect(text).toMatch(/^checkout +█████████  +10 +▁▁▁██▁▁▁▁  +0\.00% +≤0\.10% 2✗ /m);
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.startsWith('injected incidents'));
    expect(lines[at + 1]).toMatch(/^checkout incident ···▓▓····· error_burst 50\.0% 5xx 04:03-04:05/);
    expect(lines[at + 2]).toMatch(/^ +alerts +····███··· HighErrorRatio 04:04-04:07/);
    expect(text).toContain('alerts firing now: none');
  });

  it('reports a store that fails in its text instead of failing the demo', async () => {
    const failing: SelectRows = () => Promise.reject(new TypeError('fetch failed'));
    expect(await runHealthView(failing, truth)).toBe('per-service health: not available (fetch failed)');
  });
});
