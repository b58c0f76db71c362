// The resender with the connector against real local HTTP receivers (an Alertmanager API and a webhook),
// with a short interval: what an Alertmanager took as FIRING is posted again until its RESOLVED, which is
// the last post of the episode; a receiver that is down only delays re-sends; the firing sets follow the
// committed history of the partitions held.
import { afterEach, describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { avro, createLogger } from '../../runtime/index.ts';
import type { AlertEvent, SinkPartition, SinkRecord, SinkWriteRequest } from '../../runtime/index.ts';
import { idempotencyKey } from './payloads.ts';
import { Receiver } from './receiver.ts';
import { ReceiversConnector } from './receivers-connector.ts';
import { Resender } from './resender.ts';
import { startFakeReceiver } from './testing/fake-receiver.ts';
import type { FakeReceiver } from './testing/fake-receiver.ts';
import { alertEvent } from './testing/alert-events.ts';

const log = createLogger({ name: 'test', level: 'silent', pretty: false });
const binding = { topic: 'alerts', value: avro('AlertEvent'), target: 'receivers' };
const INTERVAL_MS = 40;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

type History = (partitions: readonly SinkPartition[]) => Promise<SinkRecord[]>;

async function setup(history: History = () => Promise.resolve([])) {
  const am = await startFakeReceiver('alertmanager');
  const hook = await startFakeReceiver('webhook');
  const receivers = [
    new Receiver(
      { kind: 'alertmanager', url: am.url, timeoutMs: 1000, firingValidForMs: 4 * INTERVAL_MS },
      0,
    ),
    new Receiver({ kind: 'webhook', url: hook.url, timeoutMs: 1000 }, 0),
  ];
  const registry = new Registry();
  const counter = (name: string) =>
    new Counter({ name, help: 'test', labelNames: ['receiver', 'outcome'], registers: [registry] });
  const resends = counter('resends');
  const resender = new Resender(receivers, { intervalMs: INTERVAL_MS, resends, readCommitted: history, log });
  const connector = new ReceiversConnector(receivers, counter('deliveries'), log, resender);
  resender.start();
  cleanups.push(async () => {
    await connector.close();
    await am.close();
    await hook.close();
  });
  return { am, hook, connector, resender, resends };
}

function rowsOf(events: readonly AlertEvent[], partition = 0): SinkWriteRequest<AlertEvent> {
  const rows = events.map((data, offset) => ({ topic: 'alerts', partition, offset, data }));
  return { target: 'receivers', rows, dedupToken: 'unused' };
}

const recordOf = (value: AlertEvent, partition: number, offset: number): SinkRecord => ({
  binding,
  topic: 'alerts',
  partition,
  offset,
  timestamp: 0,
  value: { ...value },
});

const posts = (fake: FakeReceiver, event: AlertEvent): number =>
  fake.accepted.get(idempotencyKey(event)) ?? 0;

async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) expect.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function counted(counter: Counter<'receiver' | 'outcome'>, outcome: string): Promise<number> {
  const { values } = await counter.get();
  return values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('re-sends of firing alerts', () => {
  it('posts each FIRING again to the Alertmanager only, until its RESOLVED, which comes last', async () => {
    const { am, hook, connector } = await setup();
    const [a, b] = [alertEvent(0, 'FIRING', 'checkout'), alertEvent(0, 'FIRING', 'search')];
    await connector.write(rowsOf([a, b]));
    await until('both re-sent twice', () => posts(am, a) >= 3 && posts(am, b) >= 3);
    am.delayMs = INTERVAL_MS; // re-sends now in flight when the RESOLVED comes
    const resolved = alertEvent(0, 'RESOLVED', 'checkout');
    await connector.write(rowsOf([resolved]));
    const afterResolved = posts(am, a);
    await sleep(5 * INTERVAL_MS);
    expect(posts(am, a)).toBe(afterResolved);
    expect(am.arrivals.filter((key) => key.startsWith(a.alert_id)).at(-1)).toBe(idempotencyKey(resolved));
    await until('the other alert re-sent still', () => posts(am, b) >= afterResolved + 2);
    expect([...hook.accepted.values()]).toEqual([1, 1, 1]);
  });

  it('a receiver that is down: re-sends counted as retry, tried again next interval, edges not held up', async () => {
    const { am, hook, connector, resends } = await setup();
    const firing = alertEvent(1, 'FIRING');
    await connector.write(rowsOf([firing]));
    await am.down();
    await until('failed re-sends', async () => (await counted(resends, 'retry')) >= 2);
    // The webhook still gets new edges at once; the Alertmanager's edge waits for it as before.
    const next = alertEvent(2, 'FIRING');
    await expect(connector.write(rowsOf([next]))).rejects.toThrow(/alertmanager-0 .* not reachable/);
    expect(posts(hook, next)).toBe(1);
    await am.up();
    const before = posts(am, firing);
    await until('re-sends again once it is back', () => posts(am, firing) >= before + 2);
  });

  it('rebuilds what fires from the committed history of the partitions held, and drops partitions given up', async () => {
    const [p0, p1] = [alertEvent(3, 'FIRING', 'checkout'), alertEvent(3, 'FIRING', 'search')];
    const over = [alertEvent(4, 'FIRING', 'payments'), alertEvent(4, 'RESOLVED', 'payments')];
    const history = [
      recordOf(p0, 0, 0),
      recordOf(over[0] as AlertEvent, 0, 1),
      recordOf(over[1] as AlertEvent, 0, 2),
      recordOf(p1, 1, 0),
    ];
    const { am, connector, resender } = await setup((partitions) =>
      Promise.resolve(
        history.filter((r) => partitions.some((p) => p.partition === r.partition && r.offset < p.committed)),
      ),
    );
    const partition = (n: number, committed: number) => ({
      topic: 'alerts',
      partition: n,
      target: 'receivers',
      committed,
    });
    await connector.storedPartitions([partition(0, 3), partition(1, 1)]);
    expect(resender.firingCounts()).toEqual(new Map([['alertmanager-0', 2]]));
    await until('both re-sent', () => posts(am, p0) >= 2 && posts(am, p1) >= 2);
    expect(posts(am, over[0] as AlertEvent)).toBe(0);
    await connector.storedPartitions([partition(1, 1)]);
    const p0Posts = posts(am, p0);
    await sleep(4 * INTERVAL_MS);
    expect(posts(am, p0)).toBeLessThanOrEqual(p0Posts + 1); // at most one already in flight
    expect(resender.firingCounts()).toEqual(new Map([['alertmanager-0', 1]]));
  });
});
