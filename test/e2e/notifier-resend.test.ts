// An episode longer than Alertmanager's resolve_timeout stays firing there: the notifier, a real process
// on the real broker, re-posts each FIRING an Alertmanager took every resend interval (1 s here) with
// endsAt = now + 4 intervals, until the RESOLVED is delivered, and resumes after a restart from what it
// had committed. Webhooks get each edge once. Before the resender, a FIRING was posted once (so a real
// Alertmanager resolved it by itself 5 minutes later).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  AvroEncoder,
  HttpSchemaRegistry,
  loadSchemas,
  registerSchemas,
  valueSubject,
} from '../../runtime/serde/index.ts';
import type { AlertEvent } from '../../runtime/index.ts';
import {
  createTopics,
  deleteTopicsWithPrefix,
  produceRecords,
  uniquePrefix,
  waitForGroupCaughtUp,
} from '../../runtime/testing/kafka-test-kit.ts';
import { startProcessor } from '../../infra/pipeline/processor-process.ts';
import type { ProcessorProcess } from '../../infra/pipeline/processor-process.ts';
import { idempotencyKey } from '../../connectors/notifier/payloads.ts';
import type { PostableAlert } from '../../connectors/notifier/payloads.ts';
import { startFakeReceiver } from '../../connectors/notifier/testing/fake-receiver.ts';
import type { FakeReceiver } from '../../connectors/notifier/testing/fake-receiver.ts';
import { alertEvent } from '../../connectors/notifier/testing/alert-events.ts';
import { baseEnv, freePort, metric, sleep, waitFor } from './sink-support.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const registry = new HttpSchemaRegistry(registryUrl);
const workDir = mkdtempSync(join(tmpdir(), 'tributary-resend-'));
const RESEND_MS = 1000;
const running: ProcessorProcess[] = [];
const fakes: FakeReceiver[] = [];
let passed = 0;

afterAll(async () => {
  for (const process of running) process.kill('SIGKILL');
  for (const fake of fakes) await fake.close();
  await deleteTopicsWithPrefix(brokers, 't-resend-');
  if (passed === 2) rmSync(workDir, { recursive: true, force: true });
  else console.log(`logs kept in ${workDir}`);
});

/** An edge of episode n of `service`, started 10 minutes ago (so endsAt = now + 4 s is after startsAt). */
function liveEdge(n: number, state: 'FIRING' | 'RESOLVED', service: string): AlertEvent {
  const start = Date.now() - 10 * 60_000;
  const event = alertEvent(n, state, service);
  return { ...event, alert_id: `${event.alert_id}-${n}`, episode_start: start, at: Date.now() - 1000 };
}

interface Setup {
  prefix: string;
  am: FakeReceiver;
  hook: FakeReceiver;
  httpPort: number;
  produce(events: readonly AlertEvent[]): Promise<void>;
  start(logName: string): ProcessorProcess;
}

async function setup(label: string): Promise<Setup> {
  const prefix = uniquePrefix(`resend-${label}`);
  const topic = `${prefix}alerts`;
  await createTopics(brokers, [
    { name: topic, partitions: 2, cleanupPolicy: 'delete' },
    { name: `${prefix}notifier.dlq`, partitions: 1, cleanupPolicy: 'delete' },
  ]);
  const schema = loadSchemas().get('AlertEvent');
  if (schema === undefined) throw new Error('schemas/alert-event.avsc is missing');
  const ids = await registerSchemas(registry, [{ subject: valueSubject(topic), schema }]);
  const encoder = new AvroEncoder<AlertEvent>(ids.get(valueSubject(topic)) ?? 0, schema.type);
  const [am, hook] = [await startFakeReceiver('alertmanager'), await startFakeReceiver('webhook')];
  fakes.push(am, hook);
  const httpPort = await freePort();
  const env = {
    ...baseEnv(brokers, registryUrl, prefix, join(workDir, `${label}-state`)),
    TRIBUTARY_HTTP_PORT: String(httpPort),
    TRIBUTARY_NOTIFIER_ALERTMANAGER_URLS: am.url,
    TRIBUTARY_NOTIFIER_WEBHOOK_URLS: hook.url,
    TRIBUTARY_NOTIFIER_TIMEOUT_MS: '2000',
    TRIBUTARY_NOTIFIER_RESEND_INTERVAL_MS: String(RESEND_MS),
  };
  return {
    prefix,
    am,
    hook,
    httpPort,
    produce: (events) =>
      produceRecords(
        brokers,
        topic,
        events.map((e) => ({ key: e.service, value: encoder.encode(e) })),
      ),
    start: (logName) => {
      const process = startProcessor('notifier', env, join(workDir, `${logName}.log`));
      running.push(process);
      return process;
    },
  };
}

const posts = (fake: FakeReceiver, event: AlertEvent): number =>
  fake.accepted.get(idempotencyKey(event)) ?? 0;

async function postedAtLeast(fake: FakeReceiver, event: AlertEvent, n: number, what: string): Promise<void> {
  await waitFor(what, 20_000, () => Promise.resolve(posts(fake, event) >= n ? true : undefined)).catch(
    () => undefined,
  );
  expect(posts(fake, event), what).toBeGreaterThanOrEqual(n);
}

async function stopCleanly(process: ProcessorProcess): Promise<void> {
  process.kill('SIGTERM');
  expect(await process.exited).toEqual({ code: 0, signal: null });
}

describe('notifier re-sends firing alerts to Alertmanager until they resolve', () => {
  it('re-posts a FIRING every interval with endsAt = now + 4 intervals; its RESOLVED stops it', async () => {
    const s = await setup('episode');
    const notifier = s.start('episode-notifier');
    const firing = liveEdge(0, 'FIRING', 'checkout');
    await s.produce([firing]);
    await postedAtLeast(s.am, firing, 3, 'the FIRING posted and re-sent twice');
    const latest = (s.am.latest.get(idempotencyKey(firing)) as PostableAlert[])[0];
    // Posted at most about one interval ago with endsAt = post time + 4 intervals.
    const endsIn = Date.parse(latest?.endsAt ?? '') - Date.now();
    expect(endsIn).toBeGreaterThan(4 * RESEND_MS - 2 * RESEND_MS);
    expect(endsIn).toBeLessThanOrEqual(4 * RESEND_MS);

    const resolved = { ...liveEdge(0, 'RESOLVED', 'checkout'), alert_id: firing.alert_id };
    await s.produce([resolved]);
    await postedAtLeast(s.am, resolved, 1, 'the RESOLVED at Alertmanager');
    const firingPosts = posts(s.am, firing);
    await sleep(3 * RESEND_MS);
    expect(posts(s.am, firing)).toBe(firingPosts);
    expect(s.am.arrivals.filter((k) => k.startsWith(firing.alert_id)).at(-1)).toBe(idempotencyKey(resolved));
    // Webhooks are edge-triggered: each edge once.
    expect([...s.hook.accepted.entries()]).toEqual([
      [idempotencyKey(firing), 1],
      [idempotencyKey(resolved), 1],
    ]);
    const resends = await metric(
      s.httpPort,
      'tributary_notifier_resends_total{receiver="alertmanager-0",outcome="delivered"',
    );
    expect(resends).toBe(firingPosts - 1);
    expect(s.am.failedAnswers).toBe(0);
    await stopCleanly(notifier);
    passed++;
  });

  it('a notifier restarted mid-episode resumes re-sending what it had committed as firing', async () => {
    const s = await setup('restart');
    const first = s.start('restart-notifier-1');
    const open = liveEdge(1, 'FIRING', 'payments');
    const closedFiring = liveEdge(2, 'FIRING', 'search');
    const closed = [closedFiring, { ...liveEdge(2, 'RESOLVED', 'search'), alert_id: closedFiring.alert_id }];
    await s.produce([open, ...closed]);
    await postedAtLeast(s.am, open, 2, 'the open FIRING re-sent by the first copy');
    await waitForGroupCaughtUp(brokers, `${s.prefix}notifier`, `${s.prefix}alerts`);
    await stopCleanly(first);
    const before = { open: posts(s.am, open), closed: posts(s.am, closedFiring) };

    const second = s.start('restart-notifier-2');
    await postedAtLeast(s.am, open, before.open + 2, 'the open FIRING re-sent after the restart');
    // Re-sends, not a redelivery: the edges were committed, the webhook got nothing again; the episode
    // resolved before the restart is not brought back.
    expect([...s.hook.accepted.values()]).toEqual([1, 1, 1]);
    expect(posts(s.am, closedFiring)).toBe(before.closed);

    const resolved = { ...liveEdge(1, 'RESOLVED', 'payments'), alert_id: open.alert_id };
    await s.produce([resolved]);
    await postedAtLeast(s.am, resolved, 1, 'the RESOLVED after the restart');
    const openPosts = posts(s.am, open);
    await sleep(3 * RESEND_MS);
    expect(posts(s.am, open)).toBe(openPosts);
    expect(s.am.failedAnswers).toBe(0);
    await stopCleanly(second);
    passed++;
  });
});
