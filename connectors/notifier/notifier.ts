// notifier: delivers every FIRING and RESOLVED on `alerts` to the configured Alertmanagers and webhooks,
// at least once (idempotency key <alert_id>:<state>). It is a sink whose store is its receivers: the
// runtime's sink loop consumes, batches, retries, dead-letters and commits; this file builds receivers
// and the resender that keeps each Alertmanager's firing alerts from timing out (resender.ts).
import { Counter, Gauge } from 'prom-client';
import { TributaryError, avro, defineSink, envVarFor } from '../../runtime/index.ts';
import type { SinkConfig, SinkConnector, SinkOpenContext } from '../../runtime/index.ts';
import { notifierConfigShape, splitUrls } from './config.ts';
import { Receiver } from './receiver.ts';
import { ReceiversConnector } from './receivers-connector.ts';
import { Resender } from './resender.ts';

type Config = SinkConfig<typeof notifierConfigShape>;

export const NOTIFIER_DEAD_LETTER_TOPIC = 'notifier.dlq';

export const notifier = defineSink({
  name: 'notifier',
  description: 'posts every alert edge to Alertmanager (/api/v2/alerts) and JSON webhooks, at least once',
  // One target: the connector fans each alert out to every receiver.
  bindings: [{ topic: 'alerts', value: avro('AlertEvent'), target: 'receivers' }],
  // Alerts a receiver refused for good (a 4xx other than 408/429), with the receiver's answer.
  deadLetter: NOTIFIER_DEAD_LETTER_TOPIC,
  config: notifierConfigShape,
  open: openReceivers,
});

export function receiversFrom(config: Config): Receiver[] {
  const common = { timeoutMs: config.notifierTimeoutMs, generatorUrl: config.notifierGeneratorUrl };
  // Active until a few missed re-sends later, as Prometheus (rules/alerting.go: 4 x the resend delay):
  // never timed out while the notifier lives, resolved soon after it is gone for good.
  const firingValidForMs = 4 * config.notifierResendIntervalMs;
  const alertmanagers = splitUrls(config.notifierAlertmanagerUrls).map(
    (url, i) =>
      new Receiver(
        {
          ...common,
          kind: 'alertmanager',
          url,
          authorization: config.notifierAlertmanagerAuthToken,
          firingValidForMs,
        },
        i,
      ),
  );
  const webhooks = splitUrls(config.notifierWebhookUrls).map(
    (url, i) =>
      new Receiver({ ...common, kind: 'webhook', url, authorization: config.notifierWebhookAuthToken }, i),
  );
  return [...alertmanagers, ...webhooks];
}

function openReceivers(ctx: SinkOpenContext<Config>): Promise<SinkConnector> {
  const receivers = receiversFrom(ctx.config);
  if (receivers.length === 0)
    throw new TributaryError(
      'TRIBUTARY_DEFINITION_OPEN_FAILED',
      `notifier: no receiver configured; set ${envVarFor('notifierAlertmanagerUrls')} and/or ${envVarFor('notifierWebhookUrls')}`,
    );
  const deliveries = new Counter({
    name: 'tributary_notifier_deliveries_total',
    help: 'Posts of an alert edge to a receiver by answer (delivered, retry, refused), and already_delivered skips',
    labelNames: ['receiver', 'outcome'],
    registers: [ctx.metrics],
  });
  const resender = resenderFor(receivers, ctx);
  resender.start();
  ctx.log.info({ receivers: receivers.map((r) => r.label) }, `delivering to ${receivers.length} receiver(s)`);
  return Promise.resolve(new ReceiversConnector(receivers, deliveries, ctx.log, resender));
}

/** Re-sends what each Alertmanager has as firing; counts re-sends and shows the firing alerts per receiver. */
function resenderFor(receivers: readonly Receiver[], ctx: SinkOpenContext<Config>): Resender {
  const resender = new Resender(receivers, {
    intervalMs: ctx.config.notifierResendIntervalMs,
    resends: new Counter({
      name: 'tributary_notifier_resends_total',
      help: 'Re-posts of a firing alert to an Alertmanager by answer (delivered, retry, refused)',
      labelNames: ['receiver', 'outcome'],
      registers: [ctx.metrics],
    }),
    readCommitted: ctx.readCommitted,
    log: ctx.log,
  });
  new Gauge({
    name: 'tributary_notifier_firing_alerts',
    help: 'Alerts an Alertmanager has as firing from this copy, re-sent every resend interval',
    labelNames: ['receiver'],
    registers: [ctx.metrics],
    collect() {
      for (const [receiver, count] of resender.firingCounts()) this.set({ receiver }, count);
    },
  });
  return resender;
}
