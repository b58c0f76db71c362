// One service's alerting state (what the `services` store keeps per key) and what a stats.1m row does
// to it: the row is folded into its minute; when it completes a minute, every minute not judged yet up
// to it is judged by every rule, oldest first (missing minutes in between are minutes without data).
// A row for a minute already judged (a correction, revision >= 1) only updates the history later
// minutes read: a judged minute is never judged again, so a correction cannot open a second episode.
import type { StatsMinute } from '../../runtime/index.ts';
import { OK, stepEpisode } from './episodes.ts';
import type { Edge, EpisodeState } from './episodes.ts';
import type { AlertRule } from './rules.ts';
import { lookbackMinutes } from './rules.ts';
import { judgeMinute } from './rule-kinds.ts';
import type { Judgement, Objectives } from './rule-kinds.ts';
import { emptyServiceMinutes, foldRow, markJudged, minutesToJudge } from './service-minutes.ts';
import type { ServiceMinutes } from './service-minutes.ts';

export interface ServiceAlertState {
  minutes: ServiceMinutes;
  /** By rule name. */
  episodes: Record<string, EpisodeState>;
}

export interface RuleEdge {
  rule: AlertRule;
  edge: Edge;
  judgement: Judgement;
}

export interface Retention {
  /** Minutes of counts kept back from the last judged minute (the longest rule lookback). */
  minutes: number;
  /** Minutes of latency buckets kept (the longest latency window). */
  sketchMinutes: number;
  /** Most minutes judged after a gap; beyond a day of silence every rule has long reached its fixed point. */
  maxGapMinutes: number;
}

export function retentionFor(rules: readonly AlertRule[]): Retention {
  const latency = rules.filter((r) => r.kind === 'latency_quantile');
  return {
    minutes: Math.max(1, ...rules.map(lookbackMinutes)),
    sketchMinutes: Math.max(0, ...latency.map((r) => r.window)),
    maxGapMinutes: 24 * 60,
  };
}

/**
 * The state of a service not in the store, from its first row. `judgedThrough`: the last minute the
 * watermark has passed, judged for every service of the partition (silent-minutes.ts); a row for it or an
 * earlier one (a service forgotten at rest, whose rows come late) is folded in like any late row.
 */
export function newServiceState(row: StatsMinute, judgedThrough?: number): ServiceAlertState {
  const minutes = emptyServiceMinutes(row.window_start);
  if (judgedThrough !== undefined && row.window_start <= judgedThrough) minutes.judgedThrough = judgedThrough;
  return { minutes, episodes: {} };
}

/** Folds a row in and judges what it completes; returns the episode edges, in order. */
export function applyRow(
  state: ServiceAlertState,
  row: StatsMinute,
  rules: readonly AlertRule[],
  retention: Retention,
  objectivesAt: (minute: number) => Objectives,
): RuleEdge[] {
  if (!foldRow(state.minutes, row)) return [];
  const minutes = minutesToJudge(state.minutes, row.window_start, retention.maxGapMinutes);
  const edges = judgeMinutes(state, row.service, minutes, rules, objectivesAt);
  markJudged(state.minutes, row.window_start, retention);
  return edges;
}

/** Judges the given minutes by every rule, oldest first (the caller marks them judged). */
export function judgeMinutes(
  state: ServiceAlertState,
  service: string,
  minutes: readonly number[],
  rules: readonly AlertRule[],
  objectivesAt: (minute: number) => Objectives,
): RuleEdge[] {
  const edges: RuleEdge[] = [];
  for (const minute of minutes) {
    const slo = objectivesAt(minute);
    for (const rule of rules) {
      const episode = state.episodes[rule.alert] ?? OK;
      const reference = episode.phase === 'ok' ? undefined : episode.reference;
      const judgement = judgeMinute(rule, state.minutes, minute, slo, reference);
      const step = stepEpisode(episode, rule, service, minute, judgement);
      state.episodes[rule.alert] = step.state;
      if (step.edge !== undefined) edges.push({ rule, edge: step.edge, judgement });
    }
  }
  return edges;
}
