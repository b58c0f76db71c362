// notifier: delivers every FIRING and RESOLVED on `alerts` to the configured Alertmanagers and webhooks,
// at least once (idempotency key <alert_id>:<state>). It is a sink whose store is its receivers: the
// runtime's sink loop consumes, batches, retries, dead-letters and commits; this file builds receivers.
import { Counter } from 'prom-client';
import { TributaryError, avro, defineSink, envVarFor } from '../../runtime/index.ts';
import type { SinkConfig, SinkConnector, SinkOpenContext } from '../../runtime/index.ts';
import { notifierConfigShape, splitUrls } from './config.ts';
import { Receiver } from './receiver.ts';
import { ReceiversConnector } from './receivers-connector.ts';

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
  const alertmanagers = splitUrls(config.notifierAlertmanagerUrls).map(
    (url, i) =>
      new Receiver(
        { ...common, kind: 'alertmanager', url, authorization: config.notifierAlertmanagerAuthToken },
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
  ctx.log.info({ receivers: receivers.map((r) => r.label) }, `delivering to ${receivers.length} receiver(s)`);
  return Promise.resolve(new ReceiversConnector(receivers, deliveries, ctx.log));
}
