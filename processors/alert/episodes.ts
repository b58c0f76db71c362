// The episode state machine of one (rule, service), stepped once per judged minute, in the spirit of
// Prometheus' alerting rule (rules/alerting.go: pending until `for` has passed, firing, then
// `keep_firing_for` before resolving) but counted in complete minutes of event time:
//   ok --bad--> pending --(`for` bad minutes in a row)--> FIRING --(`keep_firing_for` good in a row)--> RESOLVED (ok)
// A pending run that meets a minute not bad falls back to ok (as Prometheus drops a pending alert). While
// firing, a minute between the recovery threshold and the threshold (hold) or a bad one restarts the
// count of good minutes: the recovery threshold is the hysteresis. The no-data policy turns a minute
// without enough data into good (resolve), bad (fire) or no step at all (keep).
import { createHash } from 'node:crypto';
import type { AlertRule } from './rules.ts';
import type { Judgement } from './rule-kinds.ts';
import { MINUTE_MS } from './service-minutes.ts';

export type EpisodeState =
  | { phase: 'ok' }
  | { phase: 'pending'; firstBad: number; badMinutes: number; reference?: number }
  | { phase: 'firing'; alertId: string; episodeStart: number; goodMinutes: number; reference?: number };

export interface Edge {
  state: 'FIRING' | 'RESOLVED';
  alertId: string;
  episodeStart: number;
  /** End of the minute whose judgement made the edge (event time). */
  at: number;
  value: number;
  threshold: number;
}

export const OK: EpisodeState = { phase: 'ok' };

/** Stable per episode: the same rule, service and first bad minute give the same id on every replay. */
export function alertIdOf(rule: string, service: string, episodeStart: number): string {
  return createHash('sha256')
    .update(`${rule}\u0000${service}\u0000${episodeStart}`)
    .digest('hex')
    .slice(0, 32);
}

export function stepEpisode(
  state: EpisodeState,
  rule: AlertRule,
  service: string,
  minute: number,
  judgement: Judgement,
): { state: EpisodeState; edge?: Edge } {
  const verdict = judgement.verdict === 'no_data' ? NO_DATA_AS[rule.no_data] : judgement.verdict;
  if (verdict === 'unchanged') return { state };
  const at = minute + MINUTE_MS;
  switch (state.phase) {
    case 'ok':
    case 'pending': {
      if (verdict !== 'bad') return { state: OK };
      const started = state.phase === 'pending' ? state : startPending(minute, judgement);
      const { firstBad } = started;
      const badMinutes = state.phase === 'pending' ? state.badMinutes + 1 : 1;
      if (badMinutes < rule.for) return { state: { ...started, badMinutes } };
      const alertId = alertIdOf(rule.alert, service, firstBad);
      const edge: Edge = {
        state: 'FIRING',
        alertId,
        episodeStart: firstBad,
        at,
        value: judgement.value,
        threshold: judgement.threshold,
      };
      const firing: EpisodeState = { phase: 'firing', alertId, episodeStart: firstBad, goodMinutes: 0 };
      if (started.reference !== undefined) firing.reference = started.reference;
      return { state: firing, edge };
    }
    case 'firing': {
      if (verdict !== 'good') return { state: { ...state, goodMinutes: 0 } };
      const goodMinutes = state.goodMinutes + 1;
      if (goodMinutes < rule.keep_firing_for) return { state: { ...state, goodMinutes } };
      const edge: Edge = {
        state: 'RESOLVED',
        alertId: state.alertId,
        episodeStart: state.episodeStart,
        at,
        value: judgement.value,
        threshold: judgement.recovery,
      };
      return { state: OK, edge };
    }
  }
}

/** A pending run from its first bad minute, keeping what that minute was measured against. */
function startPending(minute: number, judgement: Judgement): EpisodeState & { phase: 'pending' } {
  const pending: EpisodeState & { phase: 'pending' } = { phase: 'pending', firstBad: minute, badMinutes: 1 };
  if (judgement.reference !== undefined) pending.reference = judgement.reference;
  return pending;
}

const NO_DATA_AS = { resolve: 'good', keep: 'unchanged', fire: 'bad' } as const;
