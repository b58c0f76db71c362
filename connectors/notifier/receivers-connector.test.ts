// The connector against two real local HTTP receivers: every alert to every receiver in order, a
// receiver that is down makes the write retryable without re-posting what the other already took, and a
// permanent refusal surfaces as SINK_ROW_REJECTED for that alert alone.
import { afterEach, describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { avro, createLogger, isTributaryError } from '../../runtime/index.ts';
import type { AlertEvent, SinkWriteRequest } from '../../runtime/index.ts';
import { idempotencyKey } from './payloads.ts';
import { Receiver } from './receiver.ts';
import { AnsweredKeys, ReceiversConnector } from './receivers-connector.ts';
import { resumeFrom } from '../../runtime/app/sink/sink-resume.ts';
import { startFakeReceiver } from './testing/fake-receiver.ts';
import type { FakeReceiver } from './testing/fake-receiver.ts';
import { episodeEdges } from './testing/alert-events.ts';

const log = createLogger({ name: 'test', level: 'silent', pretty: false });
const started: FakeReceiver[] = [];
afterEach(async () => {
  for (const fake of started.splice(0)) await fake.close();
});

async function setup(): Promise<{ am: FakeReceiver; hook: FakeReceiver; connector: ReceiversConnector }> {
  const am = await startFakeReceiver('alertmanager');
  const hook = await startFakeReceiver('webhook');
  started.push(am, hook);
  const receivers = [
    new Receiver({ kind: 'alertmanager', url: am.url, timeoutMs: 2000 }, 0),
    new Receiver({ kind: 'webhook', url: hook.url, timeoutMs: 2000 }, 0),
  ];
  const deliveries = new Counter({
    name: 'deliveries',
    help: 'test',
    labelNames: ['receiver', 'outcome'],
    registers: [new Registry()],
  });
  return { am, hook, connector: new ReceiversConnector(receivers, deliveries, log) };
}

function request(connector: ReceiversConnector, events: readonly AlertEvent[]): SinkWriteRequest<AlertEvent> {
  const binding = { topic: 'alerts', value: avro('AlertEvent'), target: 'receivers' };
  const rows = events.map((event, offset) =>
    connector.encode({ binding, topic: 'alerts', partition: 0, offset, timestamp: 0, value: { ...event } }),
  );
  return { target: 'receivers', rows, dedupToken: 'unused' };
}

async function codeOf(work: Promise<void>): Promise<string> {
  try {
    await work;
    return 'ok';
  } catch (error) {
    return isTributaryError(error) ? error.code : String(error);
  }
}

describe('notifier connector: every alert to every receiver, at least once', () => {
  it('delivers a batch to both receivers, each key once', async () => {
    const { am, hook, connector } = await setup();
    const events = episodeEdges(5);
    await connector.write(request(connector, events));
    const keys = events.map(idempotencyKey);
    expect([...am.accepted.keys()]).toEqual(keys);
    expect([...hook.accepted.keys()]).toEqual(keys);
    expect([...am.accepted.values(), ...hook.accepted.values()].every((n) => n === 1)).toBe(true);
  });

  it('a receiver down: the write is retryable, and the retry posts only what that receiver lacks', async () => {
    const { am, hook, connector } = await setup();
    const events = episodeEdges(3);
    await hook.down();
    expect(await codeOf(connector.write(request(connector, events)))).toBe('TRIBUTARY_SINK_UNAVAILABLE');
    expect(am.accepted.size).toBe(6);
    expect(hook.accepted.size).toBe(0);
    await hook.up();
    await connector.write(request(connector, events));
    expect([...hook.accepted.keys()]).toEqual(events.map(idempotencyKey));
    expect([...am.accepted.values()].every((n) => n === 1)).toBe(true);
  });

  it('a permanent refusal is SINK_ROW_REJECTED naming the receiver; the other alerts are delivered', async () => {
    const { am, hook, connector } = await setup();
    const events = episodeEdges(2);
    const refused = events[1] as AlertEvent;
    hook.refuse.add(idempotencyKey(refused));
    expect(await codeOf(connector.write(request(connector, events)))).toBe('TRIBUTARY_SINK_ROW_REJECTED');
    expect(hook.accepted.size).toBe(3);
    expect(am.accepted.size).toBe(4);
    // The runtime narrows a rejected batch down to single rows: the refused one alone is rejected again
    // (from memory, not re-posted), the others pass without a second post.
    const failedBefore = hook.failedAnswers;
    await expect(connector.write(request(connector, [refused]))).rejects.toThrow(
      /webhook-0 http:\/\/127\.0\.0\.1:\d+\/hook refused .*:RESOLVED for good: answered 400/,
    );
    await connector.write(
      request(
        connector,
        events.filter((e) => e !== refused),
      ),
    );
    expect(hook.failedAnswers).toBe(failedBefore);
    expect([...am.accepted.values(), ...hook.accepted.values()].every((n) => n === 1)).toBe(true);
  });
});

describe('where a notifier resumes', () => {
  it('a restarted notifier resumes at the committed offset, not the topic beginning (it re-posted every alert of the topic)', async () => {
    const { connector } = await setup();
    const partitions = [
      { topic: 't.alerts', partition: 0, target: 'receivers', committed: 7 },
      { topic: 't.alerts', partition: 1, target: 'receivers', committed: -1 },
    ];
    const held = await connector.storedPartitions(partitions);
    const seeks = partitions.map(
      (p) => resumeFrom(held.get(`${p.topic}/${p.partition}`) ?? { rejected: [] }, p.committed).seek,
    );
    expect(seeks).toEqual([7, -1]);
  });
});

describe('memory of answered keys', () => {
  it('forgets the oldest beyond its limit', () => {
    const keys = new AnsweredKeys(2);
    keys.remember('r', 'a', {});
    keys.remember('r', 'b', { refused: 'no' });
    keys.remember('r', 'c', {});
    expect(keys.get('r', 'a')).toBeUndefined();
    expect(keys.get('r', 'b')).toEqual({ refused: 'no' });
    expect(keys.get('other', 'c')).toBeUndefined();
  });
});
