// alert on a service that goes silent (issue 13): its minutes are judged by event time as the rest of
// the partition moves on (or as the idle partition moves on by the clock), so each no-data policy, a
// traffic drop to zero and an episode open when the service went quiet all play out without its rows.
import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../runtime/contracts/index.ts';
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
`;
const DROP_RULE = `
  alert: Drop
  kind: traffic_drop
  baseline: 4
  threshold: 0.5
  recovery_threshold: 0.7
  for: 2
  keep_firing_for: 2
  min_requests: 10
`;

type Driver = TestDriver<typeof alert>;

async function driverFor(rule: string, noData: string): Promise<Driver> {
  const rulesFile = writeRules(ruleYaml(`${rule}\nno_data: ${noData}`));
  return TestDriver.create(alert, { config: { rulesFile }, wallClockMs: T0 + 60 * MINUTE });
}

/**
 * Minutes `from`..`to` of `checkout` (its spec per minute; undefined: no rows, the service is silent)
 * and of `other`, a healthy service in the same partition whose rows keep its event time going.
 */
function minutes(from: number, to: number, checkout: (m: number) => MinuteSpec | undefined): StatsMinute[] {
  const rows: StatsMinute[] = [];
  for (let m = from; m <= to; m++) {
    const spec = checkout(m);
    if (spec !== undefined) rows.push(...serviceMinute(m, spec));
    rows.push(...serviceMinute(m, { service: 'other', requests: 100, errors5xx: 1 }));
  }
  return rows;
}

const bad = (): MinuteSpec => ({ requests: 100, errors5xx: 20 });
const good = (): MinuteSpec => ({ requests: 100, errors5xx: 1 });
const silentFrom =
  (first: number, before: () => MinuteSpec) =>
  (m: number): MinuteSpec | undefined =>
    m < first ? before() : undefined;

async function send(driver: Driver, rows: readonly StatsMinute[]): Promise<void> {
  await driver.input().send(rows.map((row) => ({ key: row.service, value: { ...row } })));
}

function edges(driver: Driver): Array<Pick<AlertEvent, 'service' | 'state' | 'episode_start' | 'at'>> {
  return driver
    .output('alerts')
    .map(({ service, state, episode_start, at }) => ({ service, state, episode_start, at }));
}

const at = (minute: number) => T0 + minute * MINUTE;
const firing = (start: number, end: number) => ({
  service: 'checkout',
  state: 'FIRING',
  episode_start: at(start),
  at: at(end),
});
const resolved = (start: number, end: number) => ({ ...firing(start, end), state: 'RESOLVED' });

describe('alert: no-data policies on a service that goes silent mid-episode', () => {
  it('resolve: the silent minutes count as good, so the episode resolves once, without its rows', async () => {
    const driver = await driverFor(ERROR_RULE, 'resolve');
    await send(driver, minutes(0, 12, silentFrom(2, bad)));
    expect(edges(driver)).toEqual([firing(0, 2), resolved(0, 4)]);
  });

  it('keep: stays firing while silent; rows returning healthy resolve it', async () => {
    const driver = await driverFor(ERROR_RULE, 'keep');
    await send(driver, minutes(0, 12, silentFrom(2, bad)));
    expect(edges(driver)).toEqual([firing(0, 2)]);
    await send(driver, minutes(13, 16, good));
    expect(edges(driver)).toEqual([firing(0, 2), resolved(0, 15)]);
  });

  it('fire: a healthy service that goes silent fires once (one episode however long the silence)', async () => {
    const driver = await driverFor(ERROR_RULE, 'fire');
    await send(driver, minutes(0, 40, silentFrom(3, good)));
    expect(edges(driver)).toEqual([firing(3, 5)]);
    await send(driver, minutes(41, 44, good));
    expect(edges(driver)).toEqual([firing(3, 5), resolved(3, 43)]);
  });
});

describe('alert: a traffic drop to zero', () => {
  const steady = (): MinuteSpec => ({ requests: 100 });

  it('fires within `for` + 1 minutes of event time when the rows stop; rows returning resolve it', async () => {
    const driver = await driverFor(DROP_RULE, 'keep');
    await send(driver, minutes(0, 14, silentFrom(6, steady)));
    expect(edges(driver)).toEqual([firing(6, 8)]);
    await send(driver, minutes(15, 18, steady));
    expect(edges(driver)).toEqual([firing(6, 8), resolved(6, 17)]);
  });

  it('fires as an idle partition moves on by the wall clock (the whole input went quiet)', async () => {
    const driver = await driverFor(DROP_RULE, 'keep');
    await send(
      driver,
      [0, 1, 2, 3, 4, 5].flatMap((m) => serviceMinute(m, steady())),
    );
    for (let tick = 0; tick < 8; tick++) {
      driver.advanceWallClockTime(MINUTE);
      await driver.tick();
    }
    expect(edges(driver)).toEqual([firing(6, 8)]);
  });
});

describe('alert: silence across restarts and late rows', () => {
  it('fire: a restart in the middle of the silence gives no second FIRING and keeps the RESOLVED', async () => {
    const driver = await driverFor(ERROR_RULE, 'fire');
    await send(driver, minutes(0, 5, silentFrom(3, good)));
    await driver.restart();
    await send(
      driver,
      minutes(6, 6, () => undefined),
    );
    await driver.restart();
    await send(
      driver,
      minutes(7, 12, () => undefined),
    );
    expect(edges(driver)).toEqual([firing(3, 5)]);
    await driver.restart();
    await send(driver, minutes(13, 16, good));
    expect(edges(driver)).toEqual([firing(3, 5), resolved(3, 15)]);
  });

  it('an aborted batch that judged silent minutes is judged again from the state before it', async () => {
    const driver = await driverFor(ERROR_RULE, 'fire');
    await send(driver, minutes(0, 4, silentFrom(3, good)));
    driver.abortNextBatch();
    await send(
      driver,
      minutes(5, 12, () => undefined),
    );
    expect(edges(driver)).toEqual([firing(3, 5)]);
  });

  it('resolve: restarts while the silent minutes count towards resolving lose no RESOLVED', async () => {
    const driver = await driverFor(ERROR_RULE.replace('keep_firing_for: 2', 'keep_firing_for: 3'), 'resolve');
    await send(driver, minutes(0, 3, silentFrom(2, bad)));
    for (const m of [4, 5, 6]) {
      await driver.restart();
      await send(
        driver,
        minutes(m, m, () => undefined),
      );
    }
    await send(
      driver,
      minutes(7, 12, () => undefined),
    );
    expect(edges(driver)).toEqual([firing(0, 2), resolved(0, 5)]);
  });

  it('a late row for a minute judged without data is folded in: no second FIRING, one RESOLVED', async () => {
    const driver = await driverFor(DROP_RULE, 'keep');
    await send(
      driver,
      minutes(
        0,
        14,
        silentFrom(6, () => ({ requests: 100 })),
      ),
    );
    // Minute 7's rows turn up after it was judged silent (and fired on): folded, judged no more.
    await send(driver, serviceMinute(7, { requests: 100 }));
    expect(driver.counted.get('folded_after_judged')).toBe(2);
    await send(
      driver,
      minutes(15, 18, () => ({ requests: 100 })),
    );
    expect(edges(driver)).toEqual([firing(6, 8), resolved(6, 17)]);
  });

  it('a service forgotten at rest: its late rows full of errors for silent minutes open no episode', async () => {
    const driver = await driverFor(ERROR_RULE, 'resolve');
    await send(driver, minutes(0, 8, silentFrom(2, good)));
    // Nothing kept and nothing open: the service left the store (a tombstone in its changelog).
    const last = driver
      .changelog('services')
      .filter((r) => r.key?.toString() === 'checkout')
      .at(-1);
    expect(last?.value).toBeNull();
    await send(driver, [...serviceMinute(3, bad()), ...serviceMinute(4, bad())]);
    await send(
      driver,
      minutes(9, 12, () => undefined),
    );
    expect(edges(driver)).toEqual([]);
    expect(driver.counted.get('folded_after_judged')).toBe(4);
  });
});
