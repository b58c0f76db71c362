// What each receiver kind gets for one AlertEvent. Alertmanager: one postableAlert (API v2,
// api/v2/openapi.yaml): labels and annotations are string maps, times RFC 3339; FIRING has no endsAt
// (Alertmanager ends it after its resolve_timeout unless it is resolved first), RESOLVED ends at `at`.
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

export function toPostableAlert(event: AlertEvent, generatorUrl?: string): PostableAlert {
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
