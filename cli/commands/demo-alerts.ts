// The demo's alerting: a local receiver that speaks Alertmanager's API (what the notifier delivers to),
// and the episodes in ClickHouse's `alerts` beside the incidents the run injected, once the alert stage,
// the notifier and the sink have read everything.
import { waitForGroupCaughtUp } from '../../runtime/kafka/index.ts';
import { startFakeReceiver } from '../../connectors/notifier/testing/fake-receiver.ts';
import type { FakeReceiver } from '../../connectors/notifier/testing/fake-receiver.ts';
import type { SelectRows, Truth } from '../../loadgen/index.ts';
import { alertReconciliationTables, reconcileAlertsIfPresent } from './reconcile-alerts.ts';

export type AlertReceiver = FakeReceiver;

/** An Alertmanager-compatible receiver on a free loopback port; the notifier posts to its URL. */
export function startAlertReceiver(): Promise<AlertReceiver> {
  return startFakeReceiver('alertmanager');
}

export interface DemoAlertsContext {
  brokers: string;
  prefix: string;
  receiver: AlertReceiver;
}

/** Waits for alert → notifier and alert → sink, then reconciles the episodes with the incidents. */
export async function reconcileDemoAlerts(
  truth: Truth,
  select: SelectRows,
  context: DemoAlertsContext,
): Promise<{ ok: boolean; text: string }> {
  const { brokers, prefix } = context;
  await waitForGroupCaughtUp(brokers, `${prefix}alert`, `${prefix}stats.1m`);
  await waitForGroupCaughtUp(brokers, `${prefix}notifier`, `${prefix}alerts`);
  await waitForGroupCaughtUp(brokers, `${prefix}clickhouse-sink`, `${prefix}alerts`);
  const received = new Set(context.receiver.accepted.keys());
  const alerts = await reconcileAlertsIfPresent(truth, select, received);
  if ('skipped' in alerts) return { ok: false, text: alerts.skipped };
  const delivered = `the local Alertmanager receiver accepted ${received.size} alert edge(s)`;
  return { ok: alerts.result.ok, text: `${alertReconciliationTables(alerts.result)}\n${delivered}` };
}
