// What each receiver kind gets for one AlertEvent. Alertmanager: one postableAlert (API v2,
// api/v2/openapi.yaml): labels and annotations are string maps, times RFC 3339; RESOLVED ends at `at`.
// A FIRING posted without endsAt gets now + resolve_timeout (5 m by default) from Alertmanager and
// resolves by itself unless posted again (api/v2/api.go postAlertsHandler: `if alert.EndsAt.IsZero()
// { alert.Timeout = true; alert.EndsAt = now.Add(resolveTimeout) }`), so the notifier posts FIRING with
// an explicit endsAt and re-posts it while the alert fires, as Prometheus does (resender.ts).
// Webhook: the AlertEvent itself as JSON. Both carry the idempotency key `<alert_id>:<state>`.
import type { AlertEvent } from '../../runtime/index.ts';

/** Alertmanager API v2 `postableAlert`. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

export function idempotencyKey(event: Pick<AlertEvent, 'alert_id' | 'state'>): string {
  return `${event.alert_id}:${event.state}`;
}

/**
 * The event's labels, with alertname, service and severity filled in from the event where the rule left
 * them out: Alertmanager groups and routes on labels, and an alert without alertname is hard to read.
 */
export function alertLabels(event: AlertEvent): Record<string, string> {
  return { alertname: event.rule, service: event.service, severity: event.severity, ...event.labels };
}

export interface PostableAlertOptions {
  /** Dashboard link; ?alert_id=<id> is appended. */
  generatorUrl?: string | undefined;
  /** endsAt of a FIRING, epoch ms (ignored for RESOLVED, which ends at `at`); none: Alertmanager's timeout. */
  firingEndsAt?: number | undefined;
}

/**
 * The end a FIRING posted now announces: `validForMs` from now, counted from the episode start instead
 * when that lies ahead (event time ahead of the wall clock, as in a compressed demo): Alertmanager
 * refuses an endsAt before startsAt.
 */
export function firingEndsAt(
  event: Pick<AlertEvent, 'episode_start'>,
  nowMs: number,
  validForMs: number,
): number {
  return Math.max(nowMs, event.episode_start) + validForMs;
}

export function toPostableAlert(event: AlertEvent, options: PostableAlertOptions = {}): PostableAlert {
  const { generatorUrl } = options;
  const alert: PostableAlert = {
    labels: alertLabels(event),
    annotations: {
      summary: event.summary,
      alert_id: event.alert_id,
      rule: event.rule,
      kind: event.kind,
      value: String(event.value),
      threshold: String(event.threshold),
    },
    startsAt: new Date(event.episode_start).toISOString(),
  };
  if (event.state === 'RESOLVED') alert.endsAt = new Date(event.at).toISOString();
  else if (options.firingEndsAt !== undefined) alert.endsAt = new Date(options.firingEndsAt).toISOString();
  if (generatorUrl !== undefined) {
    const url = new URL(generatorUrl);
    url.searchParams.set('alert_id', event.alert_id);
    alert.generatorURL = url.toString();
  }
  return alert;
}

/** The AlertEvent as the webhook receives it: every field, times in epoch ms as in the schema. */
export function toWebhookBody(event: AlertEvent): AlertEvent {
  return {
    alert_id: event.alert_id,
    state: event.state,
    rule: event.rule,
    kind: event.kind,
    severity: event.severity,
    service: event.service,
    episode_start: event.episode_start,
    at: event.at,
    value: event.value,
    threshold: event.threshold,
    summary: event.summary,
    labels: { ...event.labels },
  };
}
