// Judging a silent service's minutes: bounded by what the rules can still change (a day of silence is
// not 1,440 judged minutes, and later ticks judge one minute at most), a service at rest forgotten, and a
// minute that has some of its rows left to them.
import { describe, expect, it } from 'vitest';
import { applyRow, newServiceState, retentionFor } from './judge-service.ts';
import type { ServiceAlertState } from './judge-service.ts';
import { parseRules } from './rules-file.ts';
import { judgeSilence, lastCompleteMinute, silentThrough } from './silent-minutes.ts';
import { MINUTE, T0, serviceMinute } from './test-rows.ts';

const rulesOf = (noData: string) =>
  parseRules(
    `groups:
  - name: test
    rules:
      - { alert: Errors, kind: error_ratio, threshold: 0.1, for: 2, keep_firing_for: 2, min_requests: 10, no_data: ${noData}, labels: { severity: page }, summary: s }
      - { alert: Drop, kind: traffic_drop, baseline: 10, threshold: 0.5, for: 2, min_requests: 10, no_data: keep, labels: { severity: ticket }, summary: s }
`,
    'test.yaml',
  );

const at = (m: number) => T0 + m * MINUTE;
const slo = { latencySloMs: 250, availabilitySlo: 0.999 };

/** A service with healthy minutes 0..last, judged through `last`. */
function healthyThrough(last: number, rules: ReturnType<typeof rulesOf>): ServiceAlertState {
  const rows = Array.from({ length: last + 1 }, (_, m) => serviceMinute(m, { requests: 100 })).flat();
  const [first] = rows;
  if (first === undefined) throw new RangeError('no rows');
  const state = newServiceState(first);
  for (const row of rows) applyRow(state, row, rules, retentionFor(rules), () => slo);
  return state;
}

/** judgeSilence, counting the minutes it judges (it asks for each judged minute's objectives once). */
function judgeCounting(state: ServiceAlertState, through: number, rules: ReturnType<typeof rulesOf>) {
  let judged = 0;
  const silence = judgeSilence(state, 'checkout', through, rules, retentionFor(rules), () => {
    judged++;
    return slo;
  });
  return { ...silence, judged };
}

describe('silent minutes', () => {
  it('a day of silence judges only until nothing can change, then one minute per later tick', () => {
    const rules = rulesOf('fire');
    const state = healthyThrough(11, rules);
    const day = judgeCounting(state, at(11 + 24 * 60), rules);
    expect(day.edges.map(({ rule, edge }) => [rule.alert, edge.state, edge.at])).toEqual([
      ['Errors', 'FIRING', at(14)],
      ['Drop', 'FIRING', at(14)],
    ]);
    // After the longest lookback (Drop: 11 minutes) no minute is kept, and the 11th changed no episode.
    expect(day.judged).toBe(11);
    expect(state.minutes.judgedThrough).toBe(at(11 + 24 * 60));
    expect(day.forget).toBe(false);
    const next = judgeCounting(state, at(12 + 24 * 60), rules);
    expect(next).toMatchObject({ edges: [], judged: 1, forget: false });
    expect(state.minutes.judgedThrough).toBe(at(12 + 24 * 60));
  });

  it('a service at rest (nothing kept, every episode ok and staying so) is to be forgotten', () => {
    const rules = rulesOf('resolve').filter((r) => r.alert === 'Errors');
    const state = healthyThrough(3, rules);
    expect(judgeCounting(state, at(4), rules)).toMatchObject({ edges: [], forget: true });
  });

  it('a firing episode kept open by the silence is not forgotten', () => {
    const rules = rulesOf('keep');
    const state = healthyThrough(11, rules);
    const silence = judgeCounting(state, at(60), rules);
    expect(silence.edges.map(({ rule, edge }) => [rule.alert, edge.state])).toEqual([['Drop', 'FIRING']]);
    expect(silence.forget).toBe(false);
  });

  it('a minute holding some of its rows is left to them: the silence is judged up to the minute before', () => {
    const rules = rulesOf('keep');
    const state = healthyThrough(2, rules);
    const [firstOfTwo] = serviceMinute(4, { requests: 100 });
    if (firstOfTwo !== undefined) applyRow(state, firstOfTwo, rules, retentionFor(rules), () => slo);
    expect(silentThrough(state.minutes, at(6))).toBe(at(3));
    expect(silentThrough(state.minutes, at(2))).toBeUndefined();
  });

  it('the last complete minute is the one ending at or before the watermark', () => {
    expect(lastCompleteMinute(at(5))).toBe(at(4));
    expect(lastCompleteMinute(at(5) + MINUTE - 1)).toBe(at(4));
    expect(lastCompleteMinute(Number.NEGATIVE_INFINITY)).toBeUndefined();
  });
});
