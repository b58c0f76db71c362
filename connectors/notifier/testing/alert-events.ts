// AlertEvents for tests: episode n of a service, its FIRING and RESOLVED edges.
import type { AlertEvent } from '../../../runtime/index.ts';

const MINUTE = 60_000;
export const EPOCH = Date.UTC(2026, 11, 2, 1, 0, 0);

export function alertEvent(episode: number, state: 'FIRING' | 'RESOLVED', service = 'checkout'): AlertEvent {
  const episodeStart = EPOCH + episode * 10 * MINUTE;
  return {
    alert_id: `error-ratio-${service}-${episodeStart}`,
    state,
    rule: 'HighErrorRatio',
    kind: 'error_ratio',
    severity: 'page',
    service,
    episode_start: episodeStart,
    at: state === 'FIRING' ? episodeStart + 3 * MINUTE : episodeStart + 8 * MINUTE,
    value: state === 'FIRING' ? 0.12 : 0.001,
    threshold: state === 'FIRING' ? 0.05 : 0.02,
    summary: `${service}: 5xx ratio 12% over 3 minutes`,
    labels: { alertname: 'HighErrorRatio', service, severity: 'page', team: 'payments' },
  };
}

/** `episodes` episodes, each FIRING then RESOLVED, in that order. */
export function episodeEdges(episodes: number, service = 'checkout'): AlertEvent[] {
  return Array.from({ length: episodes }, (_, n) => [
    alertEvent(n, 'FIRING', service),
    alertEvent(n, 'RESOLVED', service),
  ]).flat();
}
