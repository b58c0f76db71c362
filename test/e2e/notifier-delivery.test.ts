// The notifier as a real process against a real broker and registry, delivering to local receivers that
// speak Alertmanager's API (bodies checked against the OpenAPI) and a JSON webhook, both de-duplicating
// by Idempotency-Key. A receiver down for 20 s still gets every alert once it is back (the other one is
// not held up for alerts already in hand), a permanent refusal is dead-lettered, and a notifier
// SIGKILLed mid-delivery loses nothing after its restart. Alerts are produced to the topic directly.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  AvroDecoder,
  AvroEncoder,
  HttpSchemaRegistry,
  loadSchemas,
  registerSchemas,
  valueSubject,
} from '../../runtime/serde/index.ts';
import type { AlertEvent } from '../../runtime/index.ts';
import type { DeadLetterValue } from '../../runtime/app/processor/batch.ts';
import {
  deleteTopicsWithPrefix,
  produceRecords,
  readTopic,
  uniquePrefix,
} from '../../runtime/testing/kafka-test-kit.ts';
import { createTopics } from '../../runtime/testing/kafka-test-kit.ts';
import { startProcessor } from '../../infra/pipeline/processor-process.ts';
import type { ProcessorProcess } from '../../infra/pipeline/processor-process.ts';
import { idempotencyKey } from '../../connectors/notifier/payloads.ts';
import { startFakeReceiver } from '../../connectors/notifier/testing/fake-receiver.ts';
import type { FakeReceiver } from '../../connectors/notifier/testing/fake-receiver.ts';
import { episodeEdges } from '../../connectors/notifier/testing/alert-events.ts';
import { baseEnv, freePort, metric, sleep, waitFor } from './sink-support.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const registry = new HttpSchemaRegistry(registryUrl);
const workDir = mkdtempSync(join(tmpdir(), 'tributary-notifier-'));
const TOKEN = 'Bearer notifier-sentinel-7f3a';
const running: ProcessorProcess[] = [];
const fakes: FakeReceiver[] = [];
let passed = 0;

afterAll(async () => {
  for (const process of running) process.kill('SIGKILL');
  for (const fake of fakes) await fake.close();
  await deleteTopicsWithPrefix(brokers, 't-notify-');
  if (passed === 2) rmSync(workDir, { recursive: true, force: true });
  else console.log(`logs kept in ${workDir}`);
});

interface Setup {
  prefix: string;
  am: FakeReceiver;
  hook: FakeReceiver;
  produce(events: readonly AlertEvent[]): Promise<void>;
  start(logName: string): ProcessorProcess;
  httpPort: number;
}

async function setup(label: string): Promise<Setup> {
  const prefix = uniquePrefix(`notify-${label}`);
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
  const tokenFile = join(workDir, `${label}-token`);
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const httpPort = await freePort();
  const env = {
    ...baseEnv(brokers, registryUrl, prefix, join(workDir, `${label}-state`)),
    TRIBUTARY_HTTP_PORT: String(httpPort),
    TRIBUTARY_NOTIFIER_ALERTMANAGER_URLS: am.url,
    TRIBUTARY_NOTIFIER_WEBHOOK_URLS: hook.url,
    TRIBUTARY_NOTIFIER_WEBHOOK_AUTH_TOKEN_FILE: tokenFile,
    TRIBUTARY_NOTIFIER_TIMEOUT_MS: '2000',
    TRIBUTARY_MAX_RETRY_BACKOFF_MS: '2000',
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

function missing(fake: FakeReceiver, events: readonly AlertEvent[]): string[] {
  return events.map(idempotencyKey).filter((key) => !fake.accepted.has(key));
}

async function allArrived(fake: FakeReceiver, events: readonly AlertEvent[], what: string): Promise<void> {
  await waitFor(what, 90_000, () => Promise.resolve(missing(fake, events).length === 0 ? true : undefined));
}

async function readyz(port: number): Promise<{ status: number; reason: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  const body = (await response.json()) as { reason?: string };
  return { status: response.status, reason: body.reason ?? '' };
}

describe('notifier delivery, at least once, against real Kafka', () => {
  it('a webhook down for 20 s still gets every alert; a refused alert is dead-lettered', async () => {
    const s = await setup('down');
    const notifier = s.start('down-notifier');
    const first = episodeEdges(5, 'checkout');
    await s.produce(first);
    await allArrived(s.am, first, 'the first alerts at Alertmanager');
    await allArrived(s.hook, first, 'the first alerts at the webhook');

    await s.hook.down();
    const second = episodeEdges(10, 'payments');
    const refused = second[3] as AlertEvent;
    s.hook.refuse.add(idempotencyKey(refused));
    const downAt = Date.now();
    await s.produce(second);
    // Alertmanager is not held up by the webhook: it gets the batch while the webhook is down.
    await allArrived(s.am, second, 'the second alerts at Alertmanager while the webhook is down');
    const down = await waitFor('readyz to say the webhook is down', 20_000, async () => {
      const r = await readyz(s.httpPort);
      return r.status === 503 && r.reason.includes('webhook-0') ? r : undefined;
    });
    expect(down.reason).toMatch(
      /store unavailable for \d+ s: webhook-0 http:\/\/127\.0\.0\.1:\d+\/hook not reachable/,
    );
    await sleep(Math.max(0, 20_000 - (Date.now() - downAt)));
    expect(missing(s.hook, second)).toHaveLength(second.length);
    await s.hook.up();

    const delivered = second.filter((e) => e !== refused);
    await allArrived(s.hook, delivered, 'the second alerts at the webhook after it came back');
    await waitFor('the refused alert dead-lettered', 30_000, async () =>
      (await metric(s.httpPort, 'tributary_sink_rows_total{target="receivers",outcome="dead_letter"')) === 1
        ? true
        : undefined,
    );
    const deadLetters = await readTopic(brokers, `${s.prefix}notifier.dlq`, 1);
    expect(deadLetters).toHaveLength(1);
    const decoder = AvroDecoder.forWriterSchema<DeadLetterValue>(registry);
    await decoder.prepare(deadLetters.flatMap((d) => (d.value === null ? [] : [d.value])));
    const letter = decoder.decode(deadLetters[0]?.value ?? Buffer.alloc(0));
    expect(letter).toMatchObject({
      reason: 'rejected_by_store',
      processor: 'notifier',
      source_topic: `${s.prefix}alerts`,
    });
    expect(letter.detail).toContain(`webhook-0 http://127.0.0.1`);
    expect(letter.detail).toContain(`refused ${idempotencyKey(refused)} for good: answered 400`);

    expect(s.am.failedAnswers).toBe(0); // every body met the Alertmanager API
    expect(missing(s.am, [...first, ...second])).toEqual([]);
    expect(s.hook.accepted.has(idempotencyKey(refused))).toBe(false);
    expect(s.hook.authorizations).toEqual(new Set([TOKEN]));
    expect((await readyz(s.httpPort)).status).toBe(200);
    notifier.kill('SIGTERM');
    expect(await notifier.exited).toEqual({ code: 0, signal: null });
    expect(readFileSync(join(workDir, 'down-notifier.log'), 'utf8')).not.toContain('notifier-sentinel');
    passed++;
  });

  it('a notifier SIGKILLed mid-delivery loses nothing: its restart delivers the rest', async () => {
    const s = await setup('kill');
    s.hook.delayMs = 80;
    s.am.delayMs = 80;
    const events = episodeEdges(40, 'search');
    await s.produce(events);
    const first = s.start('kill-notifier-1');
    await waitFor('a third of the alerts at the webhook', 60_000, () =>
      Promise.resolve(s.hook.accepted.size >= events.length / 3 ? true : undefined),
    );
    first.kill('SIGKILL');
    await first.exited;
    const atKill = s.hook.accepted.size;
    expect(atKill).toBeLessThan(events.length);
    s.start('kill-notifier-2');
    await allArrived(s.hook, events, 'every alert at the webhook after the restart');
    await allArrived(s.am, events, 'every alert at Alertmanager after the restart');
    const duplicates = [...s.hook.accepted.values()].reduce((sum, n) => sum + n - 1, 0);
    console.log(
      `killed after ${atKill} of ${events.length} alerts; ${duplicates} delivered again after the restart`,
    );
    expect(s.am.failedAnswers).toBe(0);
    passed++;
  });
});
