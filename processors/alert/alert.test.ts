// alert in the harness: the hysteresis edges (a flapping service gives one episode), each no-data policy,
// a late correction inside an episode, complete minutes only, and a restart mid-episode from the
// captured changelog: exactly one FIRING and one RESOLVED per episode throughout.
import { describe, expect, it } from 'vitest';
import type { AlertEvent, Service } from '../../runtime/contracts/index.ts';
import type { StatsMinute } from '../../runtime/index.ts';
import { TestDriver } from '../../runtime/testing/run-in-memory.ts';
import { alert } from './alert.ts';
import { MINUTE, T0, ruleYaml, serviceMinute, writeRules } from './test-rows.ts';
import type { MinuteSpec } from './test-rows.ts';

const ERROR_RULE = `
  alert: Errors
  kind: error_ratio
  threshold: 0.1
  recovery_threshold: 0.05
  for: 2
  keep_firing_for: 2
  min_requests: 10
  labels: { severity: page, team: sre }
`;

async function driverFor(rule: string, noData = 'keep'): Promise<TestDriver<typeof alert>> {
  const rulesFile = writeRules(ruleYaml(`${rule}\nno_data: ${noData}`));
  return TestDriver.create(alert, { config: { rulesFile }, wallClockMs: T0 + 60 * MINUTE });
}

/** Minutes from T0 with these 5xx ratios (100 requests each); null: a minute with 2 requests (no data). */
function ratios(from: number, list: ReadonlyArray<number | null>): StatsMinute[] {
  return list.flatMap((ratio, i) =>
    serviceMinute(
      from + i,
      ratio === null ? { requests: 2 } : { requests: 100, errors5xx: Math.round(ratio * 100) },
    ),
  );
}

async function send(driver: TestDriver<typeof alert>, rows: readonly StatsMinute[]): Promise<void> {
  await driver
    .input()
    .send(rows.map((row) => ({ key: row.service, value: { ...row }, timestamp: row.window_end + 30_000 })));
}

function edges(driver: TestDriver<typeof alert>): Array<Pick<AlertEvent, 'state' | 'episode_start' | 'at'>> {
  return driver.output('alerts').map(({ state, episode_start, at }) => ({ state, episode_start, at }));
}

const at = (minute: number) => T0 + minute * MINUTE;

describe('alert: hysteresis', () => {
  it('a flapping service gives one episode: fires after `for` bad minutes, resolves after `keep_firing_for` good ones', async () => {
    const driver = await driverFor(ERROR_RULE);
    // bad bad | good bad good hold good good | bad good
    await send(driver, ratios(0, [0.2, 0.2, 0.01, 0.2, 0.01, 0.07, 0.01, 0.01, 0.2, 0.01]));
    const [firing, resolved, ...rest] = driver.output('alerts');
    expect(rest).toEqual([]);
    expect(firing).toMatchObject({
      state: 'FIRING',
      rule: 'Errors',
      kind: 'error_ratio',
      severity: 'page',
      service: 'checkout',
    });
    expect(firing).toMatchObject({
      episode_start: at(0),
      at: at(2),
      value: 0.2,
      threshold: 0.1,
      summary: 'checkout 0.2',
    });
    expect(firing?.labels).toEqual({
      severity: 'page',
      team: 'sre',
      alertname: 'Errors',
      service: 'checkout',
    });
    expect(resolved).toMatchObject({
      state: 'RESOLVED',
      alert_id: firing?.alert_id,
      at: at(8),
      value: 0.01,
      threshold: 0.05,
    });
    expect(driver.outputRecords('alerts').map((r) => r.key?.toString())).toEqual(['checkout', 'checkout']);
  });

  it('a single bad minute under `for: 2` never fires; firing again after a resolve is a new episode', async () => {
    const driver = await driverFor(ERROR_RULE);
    await send(driver, ratios(0, [0.2, 0.01, 0.2, 0.2, 0.01, 0.01, 0.3, 0.3, 0.0, 0.0]));
    expect(edges(driver)).toEqual([
      { state: 'FIRING', episode_start: at(2), at: at(4) },
      { state: 'RESOLVED', episode_start: at(2), at: at(6) },
      { state: 'FIRING', episode_start: at(6), at: at(8) },
      { state: 'RESOLVED', episode_start: at(6), at: at(10) },
    ]);
    const ids = driver.output('alerts').map((a) => a.alert_id);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).toBe(ids[3]);
    expect(ids[0]).not.toBe(ids[2]);
  });

  it('judges a minute only once all of its service_rows revision-0 rows are in', async () => {
    const driver = await driverFor(ERROR_RULE);
    const rows = [0, 1].flatMap((m) => serviceMinute(m, { requests: 90, errors5xx: 30, rows: 3 }));
    await send(driver, rows.slice(0, 5));
    expect(edges(driver)).toEqual([]);
    await send(driver, rows.slice(5));
    expect(edges(driver)).toEqual([{ state: 'FIRING', episode_start: at(0), at: at(2) }]);
  });
});

describe('alert: no-data policies', () => {
  // Firing from minutes 0-1, then minutes without enough requests (null) and a gap of missing minutes.
  const input = [...ratios(0, [0.2, 0.2, null, null]), ...ratios(6, [0.01, 0.01, 0.01])];

  it('resolve: minutes without data count as good', async () => {
    const driver = await driverFor(ERROR_RULE, 'resolve');
    await send(driver, input);
    expect(edges(driver)).toEqual([
      { state: 'FIRING', episode_start: at(0), at: at(2) },
      { state: 'RESOLVED', episode_start: at(0), at: at(4) },
    ]);
  });

  it('keep: minutes without data (and missing minutes) change nothing; good minutes resolve', async () => {
    const driver = await driverFor(ERROR_RULE, 'keep');
    await send(driver, input);
    expect(edges(driver)).toEqual([
      { state: 'FIRING', episode_start: at(0), at: at(2) },
      { state: 'RESOLVED', episode_start: at(0), at: at(8) },
    ]);
  });

  it('fire: minutes without data count as bad, missing minutes between complete ones included', async () => {
    const driver = await driverFor(ERROR_RULE, 'fire');
    await send(driver, [...ratios(0, [0.01, 0.01]), ...ratios(5, [0.01, 0.01, 0.01])]);
    expect(edges(driver)).toEqual([
      { state: 'FIRING', episode_start: at(2), at: at(4) },
      { state: 'RESOLVED', episode_start: at(2), at: at(7) },
    ]);
  });
});

describe('alert: late corrections and restarts', () => {
  it('a late correction inside an episode is folded in, never judged again: no second FIRING', async () => {
    const driver = await driverFor(ERROR_RULE);
    await send(driver, ratios(0, [0.2, 0.2, 0.2]));
    // Late events for minutes 0 and 2: enough good requests that they would now read as good.
    const correction = (m: number, spec: MinuteSpec) => serviceMinute(m, { ...spec, revision: 1, rows: 1 });
    await send(driver, [...correction(0, { requests: 1000 }), ...correction(2, { requests: 1000 })]);
    await send(driver, ratios(3, [0.2, 0.01, 0.01]));
    expect(edges(driver)).toEqual([
      { state: 'FIRING', episode_start: at(0), at: at(2) },
      { state: 'RESOLVED', episode_start: at(0), at: at(6) },
    ]);
    expect(driver.counted.get('folded_after_judged')).toBe(2);
  });

  it('a late correction full of errors for a good minute already judged opens no episode', async () => {
    const driver = await driverFor(ERROR_RULE);
    await send(driver, ratios(0, [0.01, 0.01, 0.01]));
    await send(driver, serviceMinute(1, { requests: 100, errors5xx: 100, revision: 1, rows: 1 }));
    await send(driver, serviceMinute(2, { requests: 100, errors5xx: 100, revision: 1, rows: 1 }));
    expect(edges(driver)).toEqual([]);
  });

  it('a restart mid-episode resumes from the changelog: one FIRING, one RESOLVED, same alert id', async () => {
    const driver = await driverFor(ERROR_RULE);
    await send(driver, ratios(0, [0.2]));
    await driver.restart();
    await send(driver, ratios(1, [0.2, 0.2]));
    await driver.restart();
    await send(driver, ratios(3, [0.01]));
    await driver.restart();
    await send(driver, ratios(4, [0.01, 0.01]));
    expect(edges(driver)).toEqual([
      { state: 'FIRING', episode_start: at(0), at: at(2) },
      { state: 'RESOLVED', episode_start: at(0), at: at(5) },
    ]);
    const [firing, resolved] = driver.output('alerts');
    expect(resolved?.alert_id).toBe(firing?.alert_id);
    expect(driver.changelog('services').length).toBeGreaterThan(0);
  });
});

describe('alert: objectives from ref.services', () => {
  const LATENCY_RULE = `
    alert: Slow
    kind: latency_quantile
    quantile: 0.95
    threshold: 1
    for: 1
    keep_firing_for: 1
  `;
  const service = (latencySloMs: number): Service => ({
    service: 'checkout',
    team: 'payments',
    tier: 1,
    latency_slo_ms: latencySloMs,
    availability_slo: 0.999,
    updated_at: T0 - MINUTE,
  });

  it("judges latency against the service's SLO as ref.services held it at that minute", async () => {
    const driver = await driverFor(LATENCY_RULE);
    driver.table('services').put('checkout', service(100), T0 - MINUTE);
    driver.table('services').put('checkout', { ...service(400), updated_at: at(2) }, at(2));
    // 150 ms: over the 100 ms SLO of minutes 0-1, under the 400 ms of minute 2 (the rows say 250).
    await send(
      driver,
      [0, 1, 2].flatMap((m) => serviceMinute(m, { requests: 50, latencyMs: 150 })),
    );
    const [firing, resolved, ...rest] = driver.output('alerts');
    expect(rest).toEqual([]);
    expect(firing).toMatchObject({ state: 'FIRING', at: at(1), threshold: 100, kind: 'latency_quantile' });
    expect(firing?.value).toBeCloseTo(150, -1);
    expect(Math.abs((firing?.value ?? 0) - 150) / 150).toBeLessThanOrEqual(0.01);
    expect(resolved).toMatchObject({ state: 'RESOLVED', at: at(3), threshold: 400 });
  });
});
