import { describe, expect, it } from 'vitest';
import { firingEndsAt, idempotencyKey, toPostableAlert, toWebhookBody } from './payloads.ts';
import { postableAlertsProblems } from './testing/alertmanager-api.ts';
import { alertEvent } from './testing/alert-events.ts';

describe('Alertmanager API v2 payload of an alert edge', () => {
  it('FIRING: labels from the event, startsAt = episode start, no endsAt, valid postableAlerts', () => {
    const event = alertEvent(0, 'FIRING');
    const alert = toPostableAlert(event);
    expect(alert.labels).toEqual(event.labels);
    expect(alert.startsAt).toBe(new Date(event.episode_start).toISOString());
    expect(alert).not.toHaveProperty('endsAt');
    expect(alert).not.toHaveProperty('generatorURL');
    expect(alert.annotations).toMatchObject({
      summary: event.summary,
      alert_id: event.alert_id,
      value: '0.12',
    });
    expect(Object.values(alert.annotations).every((v) => typeof v === 'string')).toBe(true);
    expect(postableAlertsProblems([alert])).toEqual([]);
  });

  it('RESOLVED: endsAt = the edge time, after startsAt; generatorURL carries the alert id', () => {
    const event = alertEvent(0, 'RESOLVED');
    const alert = toPostableAlert(event, { generatorUrl: 'https://grafana.example.net/d/alerts' });
    expect(alert.endsAt).toBe(new Date(event.at).toISOString());
    expect(alert.generatorURL).toBe(
      `https://grafana.example.net/d/alerts?alert_id=${encodeURIComponent(event.alert_id)}`,
    );
    expect(postableAlertsProblems([alert])).toEqual([]);
  });

  it('FIRING re-sends: endsAt as given, valid; a RESOLVED keeps its own end', () => {
    const event = alertEvent(0, 'FIRING');
    const ends = event.episode_start + 60 * 60_000;
    const alert = toPostableAlert(event, { firingEndsAt: ends });
    expect(alert.endsAt).toBe(new Date(ends).toISOString());
    expect(postableAlertsProblems([alert])).toEqual([]);
    const resolved = alertEvent(0, 'RESOLVED');
    expect(toPostableAlert(resolved, { firingEndsAt: ends }).endsAt).toBe(
      new Date(resolved.at).toISOString(),
    );
  });

  it('a FIRING ends validFor after now, or after its start when that lies ahead (never before startsAt)', () => {
    const event = alertEvent(0, 'FIRING');
    expect(firingEndsAt(event, event.episode_start + 5_000, 240_000)).toBe(event.episode_start + 245_000);
    // Event time ahead of the wall clock (a compressed demo): still after startsAt, or Alertmanager refuses it.
    const ahead = firingEndsAt(event, event.episode_start - 3_600_000, 240_000);
    expect(ahead).toBe(event.episode_start + 240_000);
    expect(postableAlertsProblems([toPostableAlert(event, { firingEndsAt: ahead })])).toEqual([]);
  });

  it('fills alertname, service and severity from the event when the rule labels leave them out', () => {
    const event = { ...alertEvent(1, 'FIRING'), labels: { team: 'payments' } };
    expect(toPostableAlert(event).labels).toEqual({
      alertname: 'HighErrorRatio',
      service: 'checkout',
      severity: 'page',
      team: 'payments',
    });
  });

  it('the API check refuses what Alertmanager refuses (negative control of the fake receiver)', () => {
    const alert = toPostableAlert(alertEvent(0, 'RESOLVED'));
    expect(postableAlertsProblems(alert)).toEqual(['body: postableAlerts must be an array']);
    expect(postableAlertsProblems([{ ...alert, labels: undefined }])).toContain('[0].labels is required');
    expect(postableAlertsProblems([{ ...alert, annotations: { value: 1 } }])).toContain(
      '[0].annotations.value: must be a string',
    );
    expect(postableAlertsProblems([{ ...alert, startsAt: 1_700_000_000_000 }])).toContain(
      '[0].startsAt: must be a date-time string',
    );
    expect(postableAlertsProblems([{ ...alert, endsAt: '2020-01-01T00:00:00Z' }])).toContain(
      '[0]: start time must be before end time',
    );
    expect(postableAlertsProblems([{ ...alert, labels: { 'bad-name': 'x' } }])).toContain(
      '[0].labels: invalid label name "bad-name"',
    );
  });
});

describe('webhook payload and idempotency key', () => {
  it('is the AlertEvent itself, as JSON that round-trips', () => {
    const event = alertEvent(2, 'RESOLVED');
    expect(JSON.parse(JSON.stringify(toWebhookBody(event)))).toEqual(event);
  });

  it('keys an edge by alert id and state', () => {
    const event = alertEvent(0, 'FIRING');
    expect(idempotencyKey(event)).toBe(`${event.alert_id}:FIRING`);
    expect(idempotencyKey(alertEvent(0, 'RESOLVED'))).not.toBe(idempotencyKey(event));
  });
});
