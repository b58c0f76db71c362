// The notifier's store side: a sink connector whose "store" is a set of HTTP receivers. A write hands
// every alert of a batch to every receiver, each receiver in offset order; the runtime commits the
// offsets only once write() returned, i.e. once every receiver answered 2xx for every alert (or refused
// one for good: SINK_ROW_REJECTED, which the runtime narrows down to that alert and dead-letters). A
// receiver that is down throws SINK_UNAVAILABLE: the runtime pauses, backs off with jitter and retries the
// same alerts. Delivery is at least once: a retry or a restart may post an alert again, under the same
// Idempotency-Key; within a process, what a receiver already took is not posted to it again. What each
// Alertmanager has as firing is handed to the resender (resender.ts), which re-posts it until the RESOLVED.
import { TributaryError } from '../../runtime/index.ts';
import type {
  AlertEvent,
  SinkConnector,
  SinkPartition,
  SinkRecord,
  SinkRow,
  SinkWriteRequest,
} from '../../runtime/index.ts';
import type { Logger, StoredPartition } from '../../runtime/index.ts';
import type { Counter } from 'prom-client';
import { sourceOf } from './firing-alerts.ts';
import { idempotencyKey } from './payloads.ts';
import type { Receiver } from './receiver.ts';
import type { Resender } from './resender.ts';

export type DeliveryOutcome = 'delivered' | 'already_delivered' | 'refused' | 'retry';

/** Receiver and key pairs answered for good, oldest first; bounded, since a commit makes them moot. */
export class AnsweredKeys {
  private readonly answers = new Map<string, { refused?: string }>();

  constructor(private readonly limit = 50_000) {}

  get(receiver: string, key: string): { refused?: string } | undefined {
    return this.answers.get(`${receiver}\u0000${key}`);
  }

  remember(receiver: string, key: string, answer: { refused?: string }): void {
    this.answers.set(`${receiver}\u0000${key}`, answer);
    if (this.answers.size > this.limit) {
      const oldest = this.answers.keys().next();
      if (oldest.done !== true) this.answers.delete(oldest.value);
    }
  }
}

interface ReceiverRun {
  unavailable?: string;
  refused: Map<string, string>;
}

export class ReceiversConnector implements SinkConnector<AlertEvent> {
  private readonly answered = new AnsweredKeys();

  constructor(
    private readonly receivers: readonly Receiver[],
    private readonly deliveries: Counter<'receiver' | 'outcome'>,
    private readonly log: Logger,
    private readonly resender?: Resender,
  ) {}

  // Receivers keep no ledger, claims are the group's: a partition resumes at Kafka's committed offset,
  // every alert below it answered by every receiver. (Holding "nothing" would seek to the beginning and
  // post the topic's whole history again at each restart.) What fires follows the assignment: the
  // resender rebuilds it from the partitions' committed history.
  async storedPartitions(partitions: readonly SinkPartition[]): Promise<Map<string, StoredPartition>> {
    await this.resender?.restore(partitions);
    const held = new Map<string, StoredPartition>();
    for (const { topic, partition, committed } of partitions)
      if (committed > 0) held.set(sourceOf(topic, partition), { tableMax: committed - 1, rejected: [] });
    return held;
  }
  recordBatches(): Promise<void> {
    return Promise.resolve();
  }
  claim(): Promise<void> {
    return Promise.resolve();
  }
  holdsClaims(): Promise<boolean> {
    return Promise.resolve(true);
  }
  async close(): Promise<void> {
    await this.resender?.close();
  }

  encode(record: SinkRecord): SinkRow<AlertEvent> {
    const { topic, partition, offset } = record;
    return { topic, partition, offset, data: record.value as unknown as AlertEvent };
  }

  async write(request: SinkWriteRequest<AlertEvent>): Promise<void> {
    const runs = await Promise.all(this.receivers.map((receiver) => this.deliverAll(receiver, request.rows)));
    const down = runs.flatMap((run) => (run.unavailable === undefined ? [] : [run.unavailable]));
    if (down.length > 0) throw new TributaryError('TRIBUTARY_SINK_UNAVAILABLE', down.join('; '));
    const refusals = runs.flatMap((run) => [...run.refused.values()]);
    if (refusals.length > 0)
      throw new TributaryError('TRIBUTARY_SINK_ROW_REJECTED', refusals.join('; '), {
        context: { refused: refusals.length },
      });
  }

  /** Posts the alerts in order to one receiver; stops at the first one it cannot take now. */
  private async deliverAll(receiver: Receiver, rows: readonly SinkRow<AlertEvent>[]): Promise<ReceiverRun> {
    const run: ReceiverRun = { refused: new Map() };
    for (const { data: event, topic, partition } of rows) {
      const key = idempotencyKey(event);
      const known = this.answered.get(receiver.name, key);
      if (known !== undefined) {
        if (known.refused !== undefined) run.refused.set(key, known.refused);
        else this.deliveries.inc({ receiver: receiver.name, outcome: 'already_delivered' });
        continue;
      }
      if (event.state === 'RESOLVED') await this.resender?.beforeResolved(receiver, event.alert_id);
      const answer = await receiver.post(event);
      this.deliveries.inc({ receiver: receiver.name, outcome: answer.outcome });
      if (answer.outcome === 'delivered')
        this.resender?.delivered(receiver, event, sourceOf(topic, partition));
      if (answer.outcome === 'retry') {
        run.unavailable = `${receiver.label} ${answer.detail}`;
        return run;
      }
      if (answer.outcome === 'refused') {
        const detail = `${receiver.label} refused ${key} for good: ${answer.detail}`;
        this.log.error({ receiver: receiver.name, key }, detail);
        this.answered.remember(receiver.name, key, { refused: detail });
        run.refused.set(key, detail);
      } else this.answered.remember(receiver.name, key, {});
    }
    return run;
  }
}
