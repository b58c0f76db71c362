// One receiver (an Alertmanager or a webhook) and how its answers are read: 2xx delivered; 408, 429, 5xx,
// a redirect, a timeout or no connection mean "not now" (retried); any other 4xx is a permanent refusal
// of that alert (dead-lettered). Classified by status code and socket error, never by message text.
import type { AlertEvent } from '../../runtime/index.ts';
import { firingEndsAt, idempotencyKey, toPostableAlert, toWebhookBody } from './payloads.ts';
import type { PostableAlert } from './payloads.ts';

export type ReceiverKind = 'alertmanager' | 'webhook';

export type AnswerClass = 'delivered' | 'retry' | 'refused';

export interface ReceiverAnswer {
  outcome: AnswerClass;
  /** For logs and dead letters: status and the start of the body, or the socket error. */
  detail: string;
}

export function classifyStatus(status: number): AnswerClass {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429) return 'retry';
  if (status >= 400 && status < 500) return 'refused';
  // 5xx, and redirects (not followed: a POST with an auth header goes only where it was configured).
  return 'retry';
}

export interface ReceiverSpec {
  kind: ReceiverKind;
  /** The configured URL: an Alertmanager's base URL, a webhook's full URL. */
  url: string;
  /** The whole Authorization header value, if any. Never logged. */
  authorization?: string | undefined;
  timeoutMs: number;
  generatorUrl?: string | undefined;
  /** Alertmanager: how long a FIRING post keeps the alert active (its endsAt from now), in ms. */
  firingValidForMs?: number | undefined;
}

export class Receiver {
  /** `alertmanager-0 http://host:9093`: names it in logs, metrics (`name` only) and dead letters. */
  readonly name: string;
  readonly label: string;
  private readonly endpoint: string;

  constructor(
    private readonly spec: ReceiverSpec,
    index: number,
  ) {
    this.name = `${spec.kind}-${index}`;
    this.endpoint = spec.kind === 'alertmanager' ? `${spec.url.replace(/\/+$/, '')}/api/v2/alerts` : spec.url;
    const { origin, pathname } = new URL(this.endpoint);
    this.label = `${this.name} ${origin}${pathname}`;
  }

  get kind(): ReceiverKind {
    return this.spec.kind;
  }

  /** Posts one alert edge (or a FIRING again); never throws (a failure is an answer to retry). */
  async post(event: AlertEvent): Promise<ReceiverAnswer> {
    const body = this.spec.kind === 'alertmanager' ? [this.postableAlert(event)] : toWebhookBody(event);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'idempotency-key': idempotencyKey(event),
    };
    if (this.spec.authorization !== undefined) headers.authorization = this.spec.authorization;
    try {
      const response = await fetch(this.endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.spec.timeoutMs),
      });
      const text = (await response.text().catch(() => '')).slice(0, 300);
      return {
        outcome: classifyStatus(response.status),
        detail: `answered ${response.status} ${text}`.trim(),
      };
    } catch (error) {
      return { outcome: 'retry', detail: socketProblem(error, this.spec.timeoutMs) };
    }
  }

  private postableAlert(event: AlertEvent): PostableAlert {
    const validFor = this.spec.firingValidForMs;
    return toPostableAlert(event, {
      generatorUrl: this.spec.generatorUrl,
      firingEndsAt: validFor === undefined ? undefined : firingEndsAt(event, Date.now(), validFor),
    });
  }
}

/** Why no answer came: a timeout, or the socket error code (ECONNREFUSED, …) fetch wraps as its cause. */
function socketProblem(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError')
    return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : 'network error';
  return `not reachable (${code})`;
}
