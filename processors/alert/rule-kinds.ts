// What each rule kind makes of a service's complete minute: the value it judges, and whether that minute
// is bad, good (clearly recovered), in between (hold: neither fires nor counts towards resolving), or
// has too little data to say. Pure: the same minutes give the same judgement.
import type { AlertRule } from './rules.ts';
import { MINUTE_MS, windowTotals } from './service-minutes.ts';
import type { ServiceMinutes } from './service-minutes.ts';
import { quantileOfBuckets } from './latency-buckets.ts';

export type Verdict = 'bad' | 'good' | 'hold' | 'no_data';

export interface Judgement {
  verdict: Verdict;
  /** The judged value: 5xx ratio, latency ms, fraction of baseline or burn rate (0 without data). */
  value: number;
  /** The threshold a bad minute is above (below, for traffic_drop), in the value's unit. */
  threshold: number;
  /** The threshold a recovered minute is at or below (at or above, for traffic_drop). */
  recovery: number;
  /** What the value was measured against (traffic_drop: the baseline), kept while an episode lasts. */
  reference?: number;
}

/** The service's objectives valid at a minute (ref.services, else what the rows carried). */
export interface Objectives {
  latencySloMs: number | null;
  availabilitySlo: number | null;
}

/** `reference`: the episode's frozen reference (traffic_drop: the baseline before its first bad minute). */
export function judgeMinute(
  rule: AlertRule,
  state: ServiceMinutes,
  minute: number,
  slo: Objectives,
  reference?: number,
): Judgement {
  switch (rule.kind) {
    case 'error_ratio': {
      const { requests, errors5xx } = windowTotals(state, minute, rule.window);
      return classify(rule, requests >= Math.max(1, rule.min_requests) ? errors5xx / requests : undefined, 1);
    }
    case 'latency_quantile': {
      if (slo.latencySloMs === null) return classify(rule, undefined, 1);
      const q = quantileOfBuckets(state, minute, rule.window, rule.quantile, rule.min_requests);
      return classify(rule, q, slo.latencySloMs);
    }
    case 'traffic_drop': {
      const baseline = reference ?? baselineOf(rule, state, minute);
      if (baseline === undefined) return classify(rule, undefined, 1);
      const requests = state.minutes[String(minute)]?.requests ?? 0;
      return { ...classify(rule, requests / baseline, 1), reference: baseline };
    }
    case 'slo_burn_rate':
      return classify(rule, burnRate(rule, state, minute, slo.availabilitySlo), 1);
  }
}

/** Compares a value with the rule's thresholds, scaled by `unit` (the SLO, for latency). */
function classify(rule: AlertRule, value: number | undefined, unit: number): Judgement {
  const threshold = rule.threshold * unit;
  const recovery = rule.recovery * unit;
  if (value === undefined) return { verdict: 'no_data', value: 0, threshold, recovery };
  const below = rule.kind === 'traffic_drop';
  const bad = below ? value < threshold : value > threshold;
  const good = below ? value >= recovery : value <= recovery;
  return { verdict: bad ? 'bad' : good ? 'good' : 'hold', value, threshold, recovery };
}

/**
 * The median of the requests per minute over the baseline minutes before this one (a median, so a few
 * odd minutes do not move it). An episode keeps the baseline of its first bad minute, so a long drop
 * is compared with the traffic before it, not with itself. Minutes before the service was first seen
 * are not part of it; with fewer than half the baseline known, or a median below min_requests, there is
 * nothing to compare with.
 */
function baselineOf(
  rule: AlertRule & { kind: 'traffic_drop' },
  state: ServiceMinutes,
  minute: number,
): number | undefined {
  const counts: number[] = [];
  for (let i = 1; i <= rule.baseline; i++) {
    const start = minute - i * MINUTE_MS;
    if (start < state.firstMinute) break;
    counts.push(state.minutes[String(start)]?.requests ?? 0);
  }
  if (counts.length * 2 < rule.baseline) return undefined;
  counts.sort((a, b) => a - b);
  const middle = counts.length / 2;
  const median =
    counts.length % 2 === 1
      ? (counts[Math.floor(middle)] ?? 0)
      : ((counts[middle - 1] ?? 0) + (counts[middle] ?? 0)) / 2;
  return median < Math.max(1, rule.min_requests) ? undefined : median;
}

/**
 * The SRE workbook's multi-window burn rate: the error ratio over each window divided by the error
 * budget (1 - availability_slo); the minute is bad when both windows burn faster than the threshold, so
 * the value is the smaller burn. The short window makes the alert stop soon after the errors stop.
 */
function burnRate(
  rule: AlertRule & { kind: 'slo_burn_rate' },
  state: ServiceMinutes,
  minute: number,
  availability: number | null,
): number | undefined {
  if (availability === null || availability >= 1) return undefined;
  const short = windowTotals(state, minute, rule.short_window);
  const long = windowTotals(state, minute, rule.long_window);
  if (short.requests < Math.max(1, rule.min_requests)) return undefined;
  const budget = 1 - availability;
  return Math.min(
    short.errors5xx / short.requests / budget,
    long.errors5xx / Math.max(1, long.requests) / budget,
  );
}
