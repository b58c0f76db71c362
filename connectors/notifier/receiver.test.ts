import { afterEach, describe, expect, it } from 'vitest';
import { Receiver, classifyStatus } from './receiver.ts';
import { startFakeReceiver } from './testing/fake-receiver.ts';
import type { FakeReceiver } from './testing/fake-receiver.ts';
import { alertEvent } from './testing/alert-events.ts';

const started: FakeReceiver[] = [];
afterEach(async () => {
  for (const fake of started.splice(0)) await fake.close();
});

async function fakeOf(kind: 'alertmanager' | 'webhook'): Promise<FakeReceiver> {
  const fake = await startFakeReceiver(kind);
  started.push(fake);
  return fake;
}

describe('classification of receiver answers', () => {
  it('2xx delivered; 408, 429, 5xx and redirects retried; other 4xx refused for good', () => {
    const table = [200, 202, 204, 301, 307, 400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503];
    expect(Object.fromEntries(table.map((s) => [s, classifyStatus(s)]))).toEqual({
      200: 'delivered',
      202: 'delivered',
      204: 'delivered',
      301: 'retry',
      307: 'retry',
      400: 'refused',
      401: 'refused',
      403: 'refused',
      404: 'refused',
      408: 'retry',
      409: 'refused',
      413: 'refused',
      422: 'refused',
      429: 'retry',
      500: 'retry',
      502: 'retry',
      503: 'retry',
    });
  });
});

describe('a receiver posting to a real HTTP server', () => {
  it('posts to <base>/api/v2/alerts a body the API takes, with the key and the auth header', async () => {
    const fake = await fakeOf('alertmanager');
    const receiver = new Receiver(
      { kind: 'alertmanager', url: `${fake.url}/`, authorization: 'Bearer s3cret', timeoutMs: 2000 },
      0,
    );
    const event = alertEvent(0, 'FIRING');
    expect(await receiver.post(event)).toMatchObject({ outcome: 'delivered' });
    expect([...fake.accepted.keys()]).toEqual([`${event.alert_id}:FIRING`]);
    expect(fake.authorizations).toEqual(new Set(['Bearer s3cret']));
    expect(receiver.label).toBe(`alertmanager-0 ${fake.url}/api/v2/alerts`);
  });

  it('an Alertmanager FIRING carries endsAt = post time + firingValidForMs; a webhook body has none', async () => {
    const fake = await fakeOf('alertmanager');
    const receiver = new Receiver(
      { kind: 'alertmanager', url: fake.url, timeoutMs: 2000, firingValidForMs: 240_000 },
      0,
    );
    const event = { ...alertEvent(0, 'FIRING'), episode_start: Date.now() - 600_000 };
    const before = Date.now();
    expect((await receiver.post(event)).outcome).toBe('delivered');
    const [posted] = fake.latest.get(`${event.alert_id}:FIRING`) as Array<{ endsAt?: string }>;
    const ends = Date.parse(posted?.endsAt ?? '');
    expect(ends).toBeGreaterThanOrEqual(before + 240_000);
    expect(ends).toBeLessThanOrEqual(Date.now() + 240_000);
  });

  it('reads 503 and 429 as retry, 400 as refused, a closed port and a slow server as retry', async () => {
    const fake = await fakeOf('webhook');
    const receiver = new Receiver({ kind: 'webhook', url: fake.url, timeoutMs: 300 }, 1);
    const event = alertEvent(0, 'RESOLVED');
    fake.answer = 503;
    expect(await receiver.post(event)).toMatchObject({ outcome: 'retry', detail: 'answered 503 "refused"' });
    fake.answer = 429;
    expect((await receiver.post(event)).outcome).toBe('retry');
    fake.answer = undefined;
    fake.refuse.add(`${event.alert_id}:RESOLVED`);
    expect((await receiver.post(event)).outcome).toBe('refused');
    fake.refuse.clear();
    fake.delayMs = 1000;
    expect(await receiver.post(event)).toEqual({ outcome: 'retry', detail: 'no answer within 300 ms' });
    fake.delayMs = 0;
    await fake.down();
    // The first post may meet a kept-alive socket the server just closed (UND_ERR_SOCKET).
    expect(await receiver.post(event)).toMatchObject({ outcome: 'retry', detail: /^not reachable/ });
    expect(await receiver.post(event)).toEqual({ outcome: 'retry', detail: 'not reachable (ECONNREFUSED)' });
    await fake.up();
    expect((await receiver.post(event)).outcome).toBe('delivered');
  });
});
