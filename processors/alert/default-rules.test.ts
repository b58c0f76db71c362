// The default rules against the load generator's own traffic: its seeded fleets with their normal 5xx
// and latency profile, and its incidents. Events become stats.1m rows as the aggregate stage writes them
// (one row per service minute, late events as later corrections), then run through the alert processor.
// Every incident is detected within `for` + 1 minutes of its start and resolved within
// `keep_firing_for` + 1 minutes of its end; healthy services get no episode at all.
import { describe, expect, it } from 'vitest';
import { EventGenerator, buildFleet, generatorOptionsSchema } from '../../loadgen/index.ts';
import type { Fleet, IncidentSpec } from '../../loadgen/index.ts';
import type { AlertEvent, StatsMinute } from '../../runtime/index.ts';
import { TestDriver } from '../../runtime/testing/run-in-memory.ts';
import { DEFAULT_RULES_FILE, alert } from './alert.ts';
import { loadRulesFile } from './rules-file.ts';
import { bucketIndex } from '../../runtime/index.ts';
import { MINUTE, T0 } from './test-rows.ts';

const RATE = 120;
const MINUTES = 32;

interface Acc {
  requests: number;
  errors: number;
  buckets: Map<number, number>;
}

function generatedRows(seed: number, incidents: IncidentSpec[]): { rows: StatsMinute[]; fleet: Fleet } {
  const options = generatorOptionsSchema.parse({
    seed,
    rate: RATE,
    count: RATE * 60 * MINUTES,
    startMs: T0,
    incidents,
  });
  const fleet = buildFleet({
    seed,
    services: options.services,
    customers: options.customers,
    regions: options.regions,
  });
  const generator = new EventGenerator(fleet, options);
  const closed = new Map<string, Acc>();
  const late = new Map<string, Acc>();
  for (let d = generator.next(); d !== undefined; d = generator.next()) {
    if (d.kind !== 'valid' || d.copy !== 0) continue;
    const event = d.event;
    const window = Math.floor((event.ts - T0) / MINUTE);
    const arrival = Math.floor((generator.streamTimeMs(d.index) - T0) / MINUTE);
    const target = event.timing === 'late' ? late : closed;
    const key =
      event.timing === 'late'
        ? `${arrival}|${event.service}|${window}`
        : `${window}|${event.service}|${window}`;
    const acc = target.get(key) ?? { requests: 0, errors: 0, buckets: new Map() };
    target.set(key, acc);
    acc.requests++;
    if (event.status >= 500) acc.errors++;
    const bucket = bucketIndex(event.latencyMs) ?? 0;
    acc.buckets.set(bucket, (acc.buckets.get(bucket) ?? 0) + 1);
  }
  const rows: StatsMinute[] = [];
  // Window m closes (revision 0), then the corrections of late events that arrived in minute m.
  for (let m = 0; m < MINUTES - 1; m++) {
    for (const [map, revision] of [
      [closed, 0],
      [late, 1],
    ] as const)
      for (const [key, acc] of map) if (key.startsWith(`${m}|`)) rows.push(row(fleet, key, acc, revision));
  }
  return { rows, fleet };
}

function row(fleet: Fleet, key: string, acc: Acc, revision: number): StatsMinute {
  const [, serviceIndex = 0, window = 0] = key.split('|').map(Number);
  const service = fleet.services[serviceIndex];
  const start = T0 + window * MINUTE;
  const index = [...acc.buckets.keys()].sort((a, b) => a - b);
  return {
    service: service?.name ?? '',
    endpoint: '*',
    region: '*',
    window_start: start,
    window_end: start + MINUTE,
    revision,
    requests: acc.requests,
    status_1xx: 0,
    status_2xx: acc.requests - acc.errors,
    status_3xx: 0,
    status_4xx: 0,
    status_5xx: acc.errors,
    latency_count: acc.requests,
    latency_sum_ms: 0,
    latency_min_ms: 0,
    latency_max_ms: 0,
    bytes_out: 0,
    sketch_relative_accuracy: 0.01,
    sketch_zero_count: 0,
    sketch_bucket_index: index,
    sketch_bucket_count: index.map((i) => acc.buckets.get(i) ?? 0),
    service_rows: 1,
    team: service?.team ?? null,
    tier: service?.tier ?? null,
    latency_slo_ms: service?.latencySloMs ?? null,
    availability_slo: service?.availabilitySlo ?? null,
  };
}

async function alertsFor(rows: readonly StatsMinute[]): Promise<AlertEvent[]> {
  const driver = await TestDriver.create(alert, { wallClockMs: T0 + MINUTES * MINUTE });
  await driver.input().send(rows.map((r) => ({ key: r.service, value: { ...r }, timestamp: r.window_end })));
  return driver.output('alerts');
}

const rules = new Map(loadRulesFile(DEFAULT_RULES_FILE).map((r) => [r.alert, r]));

/** The rule's one episode on the service: FIRING within for+1 minutes of the start, RESOLVED within keep_firing_for+1 of the end. */
function expectDetected(
  alerts: AlertEvent[],
  rule: string,
  service: string,
  fromMinute: number,
  toMinute: number,
): void {
  const { for: forMinutes = 1, keep_firing_for: keep = 1 } = rules.get(rule) ?? {};
  const edges = alerts.filter((a) => a.rule === rule && a.service === service);
  expect(
    edges.map((a) => a.state),
    `${rule} on ${service}`,
  ).toEqual(['FIRING', 'RESOLVED']);
  const [firing, resolved] = edges;
  const start = T0 + fromMinute * MINUTE;
  const end = T0 + toMinute * MINUTE;
  expect(firing?.at).toBeGreaterThan(start);
  expect(firing?.at).toBeLessThanOrEqual(start + (forMinutes + 1) * MINUTE);
  expect(resolved?.at).toBeGreaterThan(end);
  expect(resolved?.at).toBeLessThanOrEqual(end + (keep + 1) * MINUTE);
}

describe('default rules on the load generator', () => {
  for (const seed of [1, 2]) {
    it(`seed ${seed}: each incident gives one episode of its rule in time; healthy services none`, async () => {
      const names = buildFleet({ seed }).services.map((s) => s.name);
      const [errors = '', slow = '', dropped = ''] = [names[1], names[4], names[7]];
      const incidents: IncidentSpec[] = [
        { kind: 'error_burst', service: errors, fromS: 12 * 60 + 20, toS: 18 * 60 + 20, errorRate: 0.5 },
        { kind: 'latency_spike', service: slow, fromS: 15 * 60 + 40, toS: 21 * 60 + 40, latencyX: 5 },
        { kind: 'traffic_drop', service: dropped, fromS: 20 * 60 + 10, toS: 26 * 60 + 50, trafficShare: 0.1 },
      ];
      const { rows } = generatedRows(seed, incidents);
      const alerts = await alertsFor(rows);
      expectDetected(alerts, 'HighErrorRatio', errors, 12 + 20 / 60, 18 + 20 / 60);
      expectDetected(alerts, 'LatencyAboveSlo', slow, 15 + 40 / 60, 21 + 40 / 60);
      expectDetected(alerts, 'TrafficDrop', dropped, 20 + 10 / 60, 26 + 50 / 60);
      // An error burst also burns the error budget; nothing else fires anywhere.
      const others = alerts.filter(
        (a) =>
          !(a.service === errors && ['HighErrorRatio', 'ErrorBudgetBurn'].includes(a.rule)) &&
          !(a.service === slow && a.rule === 'LatencyAboveSlo') &&
          !(a.service === dropped && a.rule === 'TrafficDrop'),
      );
      expect(others.map((a) => `${a.rule} ${a.service} ${a.state} ${a.value}`)).toEqual([]);
    });
  }
});
