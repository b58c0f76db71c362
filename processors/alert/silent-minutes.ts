// A service that sends no rows is judged too, in event time (issue 13): once the alert's watermark is
// past the end of minute M, a service whose judged minutes stop before M gets the minutes up to M judged
// as complete minutes with zero requests (the aggregate writes no row for a minute without requests).
// Each kind reads such a minute as it reads any missing minute (rule-kinds.ts):
//  - error_ratio, latency_quantile, slo_burn_rate: under min_requests over their window, so `no_data`,
//    which the rule's policy makes good (resolve), no step (keep) or bad (fire); a window longer than a
//    minute still holds the minutes before the silence and judges them as usual;
//  - traffic_drop: 0 requests against a positive baseline is the drop itself, bad (no baseline: no_data).
// A minute that has some of its rows is left to the rows: it is judged when it completes.
import type { AlertRule } from './rules.ts';
import type { Objectives } from './rule-kinds.ts';
import { judgeMinutes } from './judge-service.ts';
import type { Retention, RuleEdge, ServiceAlertState } from './judge-service.ts';
import { MINUTE_MS, markJudged, minutesToJudge } from './service-minutes.ts';
import type { ServiceMinutes } from './service-minutes.ts';

export interface Silence {
  edges: RuleEdge[];
  /** Nothing is left to judge or remember: no minute kept, every episode ok and staying so. */
  forget: boolean;
}

/** window_start of the last minute that ends at or before the watermark; undefined while unknown. */
export function lastCompleteMinute(watermarkMs: number): number | undefined {
  if (!Number.isFinite(watermarkMs)) return undefined;
  return Math.floor(watermarkMs / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
}

/** The last minute a silent service can be judged through now; undefined: nothing to judge. */
export function silentThrough(minutes: ServiceMinutes, through: number): number | undefined {
  const judged = minutes.judgedThrough;
  if (judged === null || judged >= through) return undefined;
  let until = through;
  // Minutes after the judged ones that hold rows are waiting for the rest of their rows.
  for (const key of Object.keys(minutes.minutes)) {
    const minute = Number(key);
    if (minute > judged) until = Math.min(until, minute - MINUTE_MS);
  }
  return until > judged ? until : undefined;
}

/**
 * Judges a service's silent minutes up to `through`, oldest first. Bounded: once the silence is longer
 * than every rule looks back (no minute kept), a judgement no longer depends on the minute, so a minute
 * that changes no episode is a fixed point: the rest of the silence is marked judged at once.
 */
export function judgeSilence(
  state: ServiceAlertState,
  service: string,
  through: number,
  rules: readonly AlertRule[],
  retention: Retention,
  objectivesAt: (minute: number) => Objectives,
): Silence {
  const until = silentThrough(state.minutes, through);
  if (until === undefined) return { edges: [], forget: false };
  const edges: RuleEdge[] = [];
  for (const minute of minutesToJudge(state.minutes, until, retention.maxGapMinutes)) {
    const before = JSON.stringify(state.episodes);
    edges.push(...judgeMinutes(state, service, [minute], rules, objectivesAt));
    markJudged(state.minutes, minute, retention);
    const fixed =
      Object.keys(state.minutes.minutes).length === 0 && JSON.stringify(state.episodes) === before;
    if (!fixed) continue;
    markJudged(state.minutes, until, retention);
    const allOk = Object.values(state.episodes).every((episode) => episode.phase === 'ok');
    return { edges, forget: allOk };
  }
  return { edges, forget: false };
}
