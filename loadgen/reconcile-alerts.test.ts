import { describe, expect, it } from 'vitest';
import type { InjectedIncident } from './incident-truth.ts';
import { reconcileAlerts } from './reconcile-alerts.ts';
import type { AlertEdge, RuleTiming } from './reconcile-alerts.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 11, 2, 1, 0, 0);
const at = (minute: number): number => T0 + minute * MINUTE;

const TIMING = new Map<string, RuleTiming>([
  ['HighErrorRatio', { forMinutes: 2, keepFiringForMinutes: 2 }],
  ['ErrorBudgetBurn', { forMinutes: 1, keepFiringForMinutes: 2 }],
  ['LatencyAboveSlo', { forMinutes: 2, keepFiringForMinutes: 2 }],
  ['TrafficDrop', { forMinutes: 2, keepFiringForMinutes: 2 }],
]);
const KIND_OF: Record<string, string> = {
  HighErrorRatio: 'error_ratio',
  ErrorBudgetBurn: 'slo_burn_rate',
  LatencyAboveSlo: 'latency_quantile',
  TrafficDrop: 'traffic_drop',
};

const incidents: InjectedIncident[] = [
  { service: 'checkout', kind: 'error_burst', startMs: at(10), endMs: at(16), magnitude: 0.5 },
  { service: 'search', kind: 'latency_spike', startMs: at(12), endMs: at(18), magnitude: 5 },
  { service: 'payments', kind: 'traffic_drop', startMs: at(20), endMs: at(26), magnitude: 0.2 },
];

/** An episode's two edges: FIRING at minute `fire`, RESOLVED at `resolve` (none when undefined). */
function episode(rule: string, service: string, fire: number, resolve?: number): AlertEdge[] {
  const base = { alert_id: `${rule}-${service}-${fire}`, rule, kind: KIND_OF[rule] ?? '', service };
  const edges: AlertEdge[] = [{ ...base, state: 'FIRING', at: at(fire) }];
  if (resolve !== undefined) edges.push({ ...base, state: 'RESOLVED', at: at(resolve) });
  return edges;
}

const timely = [
  ...episode('HighErrorRatio', 'checkout', 12.5, 18),
  ...episode('ErrorBudgetBurn', 'checkout', 13, 19),
  ...episode('LatencyAboveSlo', 'search', 14, 20),
  ...episode('TrafficDrop', 'payments', 23, 28),
];
const keysOf = (edges: readonly AlertEdge[]) => new Set(edges.map((e) => `${e.alert_id}:${e.state}`));
const failing = (result: ReturnType<typeof reconcileAlerts>) =>
  result.checks.filter((c) => !c.ok).map((c) => `${c.check}: ${c.actual}`);

describe('alert episodes against the injected incidents', () => {
  it('passes one timely episode per incident (a burn-rate page beside an error burst is no false positive)', () => {
    const result = reconcileAlerts(incidents, timely, TIMING, keysOf(timely));
    expect(failing(result)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.incidents.map((v) => [v.detectedMs, v.resolvedMs])).toEqual([
      [2.5 * MINUTE, 2 * MINUTE],
      [2 * MINUTE, 2 * MINUTE],
      [3 * MINUTE, 2 * MINUTE],
    ]);
  });

  it('names a missed incident, a flapping one and a late one', () => {
    const edges = [
      ...episode('HighErrorRatio', 'checkout', 12, 13),
      ...episode('HighErrorRatio', 'checkout', 14, 18),
      ...episode('LatencyAboveSlo', 'search', 16, 20),
    ];
    const result = reconcileAlerts(incidents, edges, TIMING);
    expect(result.incidents.map((v) => v.problem)).toEqual([
      '2 episodes of error_ratio',
      'fired later than for + 1 = 3 min after the start',
      '0 episodes of traffic_drop',
    ]);
    expect(failing(result)).toEqual(['incidents with one timely episode: 0']);
  });

  it('needs the RESOLVED within keep_firing_for + 1 of the end, and one edge per state', () => {
    const unresolved = [
      ...timely.filter((e) => e.service !== 'search'),
      ...episode('LatencyAboveSlo', 'search', 14),
    ];
    expect(reconcileAlerts(incidents, unresolved, TIMING).incidents[1]?.problem).toBe(
      '1 FIRING and 0 RESOLVED edges; not resolved within keep_firing_for + 1 = 3 min of the end',
    );
    const twice = [...timely, ...episode('TrafficDrop', 'payments', 23).map((e) => ({ ...e, at: at(24) }))];
    const result = reconcileAlerts(incidents, twice, TIMING);
    expect(result.incidents[2]?.problem).toBe('2 FIRING and 1 RESOLVED edges');
    expect(failing(result)).toContain('alert edges in ClickHouse, each key once: 8');
  });

  it('lists episodes that begin in the run\u2019s last minute or later apart: the load stopping is not a false positive', () => {
    const startingAt = (edges: AlertEdge[], minute: number) =>
      edges.map((e) => ({ ...e, episode_start: at(minute) }));
    const edges = [
      ...timely,
      ...startingAt(episode('TrafficDrop', 'inventory', 42), 40), // the run's last, partial minute
      ...startingAt(episode('TrafficDrop', 'checkout', 39), 37), // during the run: a false positive
    ];
    const result = reconcileAlerts(incidents, edges, TIMING, undefined, at(40.5));
    expect(result.afterRunEnd.map((e) => e.alertId)).toEqual(['TrafficDrop-inventory-42']);
    expect(result.falsePositives.map((e) => e.alertId)).toEqual(['TrafficDrop-checkout-39']);
  });

  it('counts every episode no incident explains as a false positive', () => {
    const edges = [
      ...timely,
      ...episode('HighErrorRatio', 'inventory', 30, 33),
      ...episode('TrafficDrop', 'checkout', 13, 17),
      ...episode('LatencyAboveSlo', 'search', 40, 43),
    ];
    const result = reconcileAlerts(incidents, edges, TIMING);
    expect(result.falsePositives.map((e) => e.alertId)).toEqual([
      'HighErrorRatio-inventory-30',
      'TrafficDrop-checkout-13',
      'LatencyAboveSlo-search-40',
    ]);
    expect(failing(result)).toEqual(['episodes no incident explains (false positives): 3']);
  });

  it('holds the receivers to the same keys as ClickHouse, both ways', () => {
    const received = keysOf(timely);
    const [first] = received;
    received.delete(first ?? '');
    received.add('unknown:FIRING');
    expect(failing(reconcileAlerts(incidents, timely, TIMING, received))).toEqual([
      'keys the receivers got that ClickHouse holds: 7',
      'keys the receivers got beyond ClickHouse: 1',
    ]);
  });
});
