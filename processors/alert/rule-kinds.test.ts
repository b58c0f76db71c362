// Each rule kind's value on known minutes: the 5xx ratio over a window, a latency quantile from merged
// sketches within the sketch's accuracy of the exact one, traffic against a median baseline (frozen by an
// episode), and the two-window burn rate.
import { describe, expect, it } from 'vitest';
import { emptyServiceMinutes, foldRow } from './service-minutes.ts';
import type { ServiceMinutes } from './service-minutes.ts';
import { judgeMinute } from './rule-kinds.ts';
import { parseRules } from './rules-file.ts';
import { MINUTE, T0, ruleYaml, serviceMinute } from './test-rows.ts';
import type { MinuteSpec } from './test-rows.ts';

const NO_SLO = { latencySloMs: null, availabilitySlo: null };

function minutes(specs: ReadonlyArray<MinuteSpec | null>): ServiceMinutes {
  const state = emptyServiceMinutes(T0);
  specs.forEach((spec, m) => {
    if (spec !== null) for (const row of serviceMinute(m, spec)) foldRow(state, row);
  });
  return state;
}

const rule = (keys: string) => {
  const [parsed] = parseRules(ruleYaml(keys), 'test.yaml');
  if (parsed === undefined) expect.fail('no rule');
  return parsed;
};
const at = (m: number) => T0 + m * MINUTE;

describe('rule kinds', () => {
  it('error_ratio: 5xx over requests across the window; too few requests is no data', () => {
    const r = rule('alert: E\nkind: error_ratio\nwindow: 2\nthreshold: 0.1\nmin_requests: 150');
    const state = minutes([
      { requests: 100, errors5xx: 30 },
      { requests: 100, errors5xx: 10 },
    ]);
    expect(judgeMinute(r, state, at(1), NO_SLO)).toMatchObject({
      verdict: 'bad',
      value: 0.2,
      threshold: 0.1,
    });
    expect(judgeMinute(r, state, at(0), NO_SLO).verdict).toBe('no_data');
  });

  it("latency_quantile: the merged sketches' quantile within 1% of the exact one, against threshold x SLO", () => {
    const r = rule('alert: L\nkind: latency_quantile\nquantile: 0.9\nwindow: 2\nthreshold: 0.5');
    // Minute 0: 90 requests at 10 ms; minute 1: 10 at 10 ms and 100 at 300 ms (two rows each).
    const state = minutes([
      { requests: 90, latencyMs: 10 },
      { requests: 10, latencyMs: 10 },
    ]);
    for (const row of serviceMinute(1, { requests: 100, latencyMs: 300, rows: 1, revision: 1 }))
      foldRow(state, row);
    const judged = judgeMinute(r, state, at(1), { latencySloMs: 400, availabilitySlo: null });
    expect(judged).toMatchObject({ verdict: 'bad', threshold: 200, recovery: 200 });
    expect(Math.abs(judged.value - 300) / 300).toBeLessThanOrEqual(0.01);
    expect(judgeMinute(r, state, at(1), NO_SLO).verdict).toBe('no_data');
  });

  it('traffic_drop: requests over the median of the baseline; an episode compares with its frozen baseline', () => {
    const r = rule('alert: T\nkind: traffic_drop\nbaseline: 4\nthreshold: 0.5\nrecovery_threshold: 0.8');
    const state = minutes([
      { requests: 100 },
      { requests: 1000 },
      { requests: 120 },
      { requests: 110 },
      { requests: 40 },
    ]);
    expect(judgeMinute(r, state, at(4), NO_SLO)).toMatchObject({ verdict: 'bad', reference: 115 });
    expect(judgeMinute(r, state, at(4), NO_SLO).value).toBeCloseTo(40 / 115);
    expect(judgeMinute(r, state, at(4), NO_SLO, 60)).toMatchObject({ verdict: 'hold', reference: 60 });
    // Fewer than half the baseline known: nothing to compare with.
    expect(judgeMinute(r, state, at(1), NO_SLO).verdict).toBe('no_data');
  });

  it('slo_burn_rate: both windows must burn faster than the threshold; the value is the smaller burn', () => {
    const r = rule(
      'alert: B\nkind: slo_burn_rate\nshort_window: 1\nlong_window: 4\nthreshold: 10\nrecovery_threshold: 4',
    );
    const state = minutes([
      { requests: 1000 },
      { requests: 1000 },
      { requests: 1000 },
      { requests: 1000, errors5xx: 200 },
    ]);
    const slo = { latencySloMs: null, availabilitySlo: 0.99 };
    const judged = judgeMinute(r, state, at(3), slo);
    // short: 0.2 / 0.01 = 20; long: 200 / 4000 / 0.01 = 5.
    expect(judged.value).toBeCloseTo(5);
    expect(judged.verdict).toBe('hold');
    expect(judgeMinute(r, state, at(3), NO_SLO).verdict).toBe('no_data');
  });
});
