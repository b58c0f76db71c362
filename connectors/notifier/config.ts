// The notifier's own config keys (env TRIBUTARY_<KEY>), beside the runtime and batching keys. Receivers
// are lists of URLs; an auth header value is a secret (…_AUTH_TOKEN or …_AUTH_TOKEN_FILE), never logged.
import { z } from 'zod';

/** Comma-separated http(s) URLs; empty = none. */
const urlList = (describe: string) =>
  z
    .string()
    .default('')
    .refine((value) => splitUrls(value).every(isHttpUrl), {
      message: 'expected comma-separated http:// or https:// URLs without user:password (use the token key)',
    })
    .describe(describe);

const secret = (describe: string) => z.string().min(1).optional().describe(describe);

export const notifierConfigShape = {
  notifierAlertmanagerUrls: urlList(
    'Alertmanager base URLs (each gets every alert on <url>/api/v2/alerts, as Prometheus sends to an HA pair), e.g. http://127.0.0.1:9093',
  ),
  notifierAlertmanagerAuthToken: secret(
    'value of the Authorization header sent to Alertmanager, e.g. "Bearer …"; or a file: TRIBUTARY_NOTIFIER_ALERTMANAGER_AUTH_TOKEN_FILE',
  ),
  notifierWebhookUrls: urlList(
    'JSON webhook URLs (each gets every AlertEvent as JSON, header Idempotency-Key: <alert_id>:<state>)',
  ),
  notifierWebhookAuthToken: secret(
    'value of the Authorization header sent to the webhooks; or a file: TRIBUTARY_NOTIFIER_WEBHOOK_AUTH_TOKEN_FILE',
  ),
  notifierTimeoutMs: z
    .number()
    .int()
    .min(100)
    .max(120_000)
    .default(5_000)
    .describe(
      'longest wait for one receiver answer, in ms; a timeout is retried (the receiver de-duplicates)',
    ),
  notifierResendIntervalMs: z
    .number()
    .int()
    .min(200)
    .max(3_600_000)
    .default(60_000)
    .describe(
      'how often each Alertmanager gets the alerts it has as firing again, in ms, each with endsAt = now + 4 x this interval, until their RESOLVED (Alertmanager resolves an alert by itself once endsAt passes, as after resolve_timeout, 5 m by default, without endsAt; Prometheus re-sends every 1 m likewise). Webhooks get each edge once: they are edge-triggered',
    ),
  notifierGeneratorUrl: z
    .url()
    .optional()
    .describe('Alertmanager generatorURL of every alert (a dashboard, say); ?alert_id=<id> is appended'),
};

export function splitUrls(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === ''
    );
  } catch {
    return false;
  }
}
