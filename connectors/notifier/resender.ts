// Re-sends the alerts an Alertmanager has as FIRING, every resend interval, until their RESOLVED is
// posted: Alertmanager resolves an alert by itself once its endsAt passes (now + resolve_timeout when
// posted without one), so a client keeps posting what is still active. Prometheus does the same
// (rules/alerting.go sendAlerts: every --rules.alert.resend-delay, 1 m, with ValidUntil = ts +
// 4 * max(resendDelay, evalInterval), "allow for two Eval or Alertmanager send failures"). Webhooks are
// edge-triggered and get each edge once. Re-sends are best effort, beside the edge delivery: a failed
// one is logged and tried again at the next interval, never retried in between nor holding an edge up.
//
// Order matters at the RESOLVED: a FIRING that reaches Alertmanager after it would start the alert
// again (provider/mem Put merges only overlapping activity ranges; a resolved alert's range ended), so
// no re-send of an alert starts once its RESOLVED is due, and one in flight is awaited first.
//
// What fires survives a restart and follows the partitions: on every assignment the sets are rebuilt
// from the committed history of the partitions held (everything below a committed offset was answered
// by every receiver), plus what this copy delivered since; alerts of partitions gone to another copy are
// dropped, as that copy re-sends (and resolves) them.
import type { Counter } from 'prom-client';
import type { AlertEvent, Logger, SinkPartition, SinkRecord } from '../../runtime/index.ts';
import { FiringAlerts, sourceOf } from './firing-alerts.ts';
import { idempotencyKey } from './payloads.ts';
import type { Receiver } from './receiver.ts';

export interface ResenderOptions {
  intervalMs: number;
  /** Re-sends by receiver and answer (delivered, retry, refused). */
  resends: Counter<'receiver' | 'outcome'>;
  /** The partitions' records below their committed offsets (SinkOpenContext.readCommitted). */
  readCommitted: (partitions: readonly SinkPartition[]) => Promise<SinkRecord[]>;
  log: Logger;
}

interface Target {
  receiver: Receiver;
  firing: FiringAlerts;
}

export class Resender {
  private readonly targets: Target[];
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    receivers: readonly Receiver[],
    private readonly options: ResenderOptions,
  ) {
    this.targets = receivers
      .filter((receiver) => receiver.kind === 'alertmanager')
      .map((receiver) => ({ receiver, firing: new FiringAlerts() }));
  }

  /** Alerts firing per receiver name, for the gauge. */
  firingCounts(): Map<string, number> {
    return new Map(this.targets.map((t) => [t.receiver.name, t.firing.size]));
  }

  start(): void {
    if (this.targets.length > 0) this.schedule();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.round;
  }

  /** Rebuilds the sets for the partitions held now from their committed history. */
  async restore(partitions: readonly SinkPartition[]): Promise<void> {
    if (this.targets.length === 0) return;
    const records = await this.options.readCommitted(partitions);
    const held = new Set(partitions.map((p) => sourceOf(p.topic, p.partition)));
    for (const { firing } of this.targets) {
      firing.retainSources(held);
      for (const record of records)
        firing.apply(record.value as unknown as AlertEvent, sourceOf(record.topic, record.partition));
    }
    const counts = [...this.firingCounts()].map(([name, n]) => `${name}: ${n}`).join(', ');
    this.options.log.info({ partitions: held.size }, `firing alerts after the assignment: ${counts}`);
  }

  /** An edge the receiver answered (2xx, or refused for good): what it has as firing from now on. */
  delivered(receiver: Receiver, event: AlertEvent, source: string): void {
    this.targetOf(receiver)?.firing.apply(event, source);
  }

  /** Before a RESOLVED is posted: no re-send of the alert starts any more, one in flight has answered. */
  async beforeResolved(receiver: Receiver, alertId: string): Promise<void> {
    this.targetOf(receiver)?.firing.resolve(alertId);
    await this.inFlight.get(flightKey(receiver, alertId));
  }

  private targetOf(receiver: Receiver): Target | undefined {
    return this.targets.find((t) => t.receiver === receiver);
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.round = this.resendAll().finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async resendAll(): Promise<void> {
    await Promise.all(this.targets.map((target) => this.resendTo(target)));
  }

  /** Posts every firing alert again, in order; a receiver that does not answer waits for the next round. */
  private async resendTo({ receiver, firing }: Target): Promise<void> {
    const { resends, log, intervalMs } = this.options;
    for (const event of firing.events()) {
      // Checked right before posting, in the same tick: beforeResolved() either stops this post or sees it.
      if (this.closed || !firing.has(event.alert_id)) continue;
      const key = flightKey(receiver, event.alert_id);
      const posted = receiver.post(event);
      this.inFlight.set(key, posted);
      const answer = await posted.finally(() => this.inFlight.delete(key));
      resends.inc({ receiver: receiver.name, outcome: answer.outcome });
      if (answer.outcome === 'delivered') continue;
      log.warn(
        { receiver: receiver.name, key: idempotencyKey(event), outcome: answer.outcome },
        `re-sending ${idempotencyKey(event)} to ${receiver.label} failed (${answer.detail}); next try in ${intervalMs} ms`,
      );
      if (answer.outcome === 'retry') return;
    }
  }
}

function flightKey(receiver: Receiver, alertId: string): string {
  return `${receiver.name}\u0000${alertId}`;
}
