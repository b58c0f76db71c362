// The aggregate through the in-memory harness: windows close once on the watermark, late events are
// corrected or dead-lettered, idle partitions close by wall clock, a restart neither re-emits nor forgets,
// and a backlog whose upstream partitions progress at different rates gives exactly the live windows.
import { describe, expect, it } from 'vitest';
import type { EnrichedRequest, StatsMinute } from '../../runtime/index.ts';
import { TestDriver } from '../../runtime/testing/test-driver.ts';
import type { InMemoryInput } from '../../runtime/testing/test-input-topic.ts';
import { LATE_EVENT_REASON, WINDOW_MS, aggregate } from './aggregate.ts';

const T0 = Date.UTC(2026, 11, 2, 1, 0, 0);
const LATENESS_MS = 10_000;
const IDLE_MS = 30_000;

function request(service: string, ts: number, latencyMs = 20, endpoint = '/a'): EnrichedRequest {
  return {
    event_id: `${service}-${ts}-${latencyMs}-${endpoint}`,
    ts,
    service,
    endpoint,
    method: 'GET',
    status: latencyMs > 400 ? 503 : 200,
    latency_ms: latencyMs,
    bytes_out: 100,
    customer_id: 'c-1',
    region: 'eu',
    ingested_at: ts,
    team: 'payments',
    tier: 1,
    latency_slo_ms: 250,
    availability_slo: 0.999,
    plan: 'pro',
    account_region: 'eu',
    service_miss: null,
    customer_miss: null,
  };
}

const send = (event: EnrichedRequest, extra: Partial<InMemoryInput> = {}): InMemoryInput => ({
  key: event.service,
  value: { ...event },
  timestamp: event.ts,
  ...extra,
});

async function driverFor(config: Record<string, unknown> = {}) {
  return TestDriver.create(aggregate, {
    config: { allowedLatenessMs: LATENESS_MS, idleTimeoutMs: IDLE_MS, ...config },
    wallClockMs: T0,
  });
}

const summary = (rows: StatsMinute[]) =>
  rows.map((r) => ({
    service: r.service,
    endpoint: r.endpoint,
    start: r.window_start,
    revision: r.revision,
    requests: r.requests,
    rows: r.service_rows,
  }));

describe('aggregate', () => {
  it('counts out-of-order events within the lateness in their window and emits it once the watermark passes', async () => {
    const driver = await driverFor();
    const times = [5_000, 50_000, 2_000, 59_000, 61_000, 30_000, 65_000].map((t) => T0 + t);
    await driver.input().send(times.map((t) => send(request('checkout', t))));
    expect(driver.output('stats')).toEqual([]); // watermark 65 s − 10 s < 60 s: still open
    await driver.input().send(send(request('checkout', T0 + 70_000)));
    expect(summary(driver.output('stats'))).toEqual([
      { service: 'checkout', endpoint: '/a', start: T0, revision: 0, requests: 5, rows: 1 },
    ]);
    expect(driver.counted.size).toBe(0);
  });

  it('emits all of a service\u2019s rows of a window together, with service_rows', async () => {
    const driver = await driverFor();
    await driver
      .input()
      .send([
        send(request('checkout', T0 + 1_000, 20, '/a')),
        send(request('search', T0 + 2_000, 20, '/s')),
        send(request('checkout', T0 + 3_000, 20, '/b')),
        send(request('checkout', T0 + 80_000, 20, '/a')),
      ]);
    const rows = summary(driver.output('stats'));
    expect(rows.map((r) => [r.service, r.endpoint, r.rows])).toEqual([
      ['checkout', '/a', 2],
      ['checkout', '/b', 2],
      ['search', '/s', 1],
    ]);
  });

  it('corrects a late event after its window closed: a delta row with revision n, emitted a minute of event time later', async () => {
    const driver = await driverFor();
    await driver
      .input()
      .send([send(request('checkout', T0 + 1_000, 10)), send(request('checkout', T0 + 75_000))]);
    await driver.input().send(send(request('checkout', T0 + 2_000, 900))); // window [T0, T0+60 s) closed at 70 s
    expect(driver.counted.get('late_event:corrected')).toBe(1);
    expect(driver.output('stats').map((r) => r.revision)).toEqual([0]);
    await driver.input().send(send(request('checkout', T0 + 130_000))); // watermark 120 s: due
    const [closed, correction] = driver.output('stats').filter((r) => r.window_start === T0);
    expect(closed).toMatchObject({ revision: 0, requests: 1, latency_max_ms: 10 });
    expect(correction).toMatchObject({
      revision: 1,
      requests: 1,
      status_5xx: 1,
      latency_min_ms: 900,
      latency_max_ms: 900,
    });
    expect(driver.deadLetters).toEqual([]);
    expect(driver.latenessSeconds.some((s) => s >= 73)).toBe(true);
  });

  it('dead-letters a late event with reason late_event under latePolicy dead-letter', async () => {
    const driver = await driverFor({ latePolicy: 'dead-letter' });
    await driver
      .input()
      .send([send(request('checkout', T0 + 1_000)), send(request('checkout', T0 + 75_000))]);
    await driver.input().send(send(request('checkout', T0 + 2_000, 900)));
    expect(driver.deadLetters.map((d) => d.reason)).toEqual([LATE_EVENT_REASON]);
    await driver.input().send(send(request('checkout', T0 + 200_000)));
    expect(
      driver
        .output('stats')
        .filter((r) => r.window_start === T0)
        .map((r) => [r.revision, r.requests]),
    ).toEqual([[0, 1]]);
  });

  it('closes the windows of an idle partition by wall clock, and only after the idle timeout', async () => {
    const driver = await driverFor();
    await driver.input().send(send(request('checkout', T0 + 50_000), { partition: 1 }));
    driver.advanceWallClockTime(IDLE_MS - 1);
    await driver.tick();
    expect(driver.output('stats')).toEqual([]);
    // Idle from 30 s of silence on, the partition's progress moves with the clock from its last record:
    // the window [0, 60 s) closes once 50 s + silence − 10 s lateness reaches 60 s, i.e. after 20 s more.
    driver.advanceWallClockTime(1);
    await driver.tick();
    expect(summary(driver.output('stats'))).toHaveLength(1);
    expect(driver.watermark(1)).toBe(T0 + 50_000 + IDLE_MS - LATENESS_MS);
  });

  it('restores open windows and the watermark on restart, with no double emission', async () => {
    const driver = await driverFor();
    await driver
      .input()
      .send([send(request('checkout', T0 + 1_000)), send(request('checkout', T0 + 61_000))]);
    await driver.input().send(send(request('checkout', T0 + 75_000))); // closes [0, 60 s)
    const watermark = driver.watermark(0);
    await driver.restart();
    expect(driver.watermark(0)).toBe(watermark);
    await driver.input().send(send(request('checkout', T0 + 62_000)));
    await driver.input().send(send(request('checkout', T0 + 140_000)));
    expect(summary(driver.output('stats'))).toEqual([
      { service: 'checkout', endpoint: '/a', start: T0, revision: 0, requests: 1, rows: 1 },
      { service: 'checkout', endpoint: '/a', start: T0 + WINDOW_MS, revision: 0, requests: 3, rows: 1 },
    ]);
    expect(driver.counted.size).toBe(0);
  });

  // Issue 12, bug B: the restarted copy's first batch was consumed before its assignment arrived, so it
  // aborted on the epoch check and ran again; one minute came out with half its events counted twice.
  it('counts a restored window once when the first batch after the restart is aborted and run again', async () => {
    const second = (s: number) => send(request('checkout', T0 + s * 1_000));
    const driver = await driverFor();
    await driver.input().send(Array.from({ length: 100 }, (_, i) => second(i))); // [60 s, 100 s) open
    await driver.restart();
    driver.abortNextBatch();
    await driver.input().send(Array.from({ length: 100 }, (_, i) => second(100 + i)));
    await driver.input().send(second(300));
    expect(summary(driver.output('stats')).map((r) => [r.start - T0, r.revision, r.requests])).toEqual([
      [0, 0, 60],
      [WINDOW_MS, 0, 60],
      [2 * WINDOW_MS, 0, 60],
      [3 * WINDOW_MS, 0, 20],
    ]);
  });

  it('gives a backlog whose upstream partitions progress at different rates exactly the live windows, with no late events', async () => {
    const live = await replay(liveOrder(), { headers: true });
    const backlog = await replay(backlogOrder(), { headers: true });
    expect(live.late).toBe(0);
    expect(backlog.late).toBe(0);
    expect(backlog.rows).toEqual(live.rows);
    expect(live.rows.length).toBe(2 * SOURCES * MINUTES);
    // The contrast: "largest event time seen minus lateness" runs ahead with the fastest source, so the
    // same backlog without progress headers judges valid events late and closes windows short.
    const naive = await replay(backlogOrder(), { headers: false });
    expect(naive.late).toBeGreaterThan(100);
    expect(naive.rows.filter((r) => r.revision === 0)).not.toEqual(live.rows);
  });
});

const SOURCES = 3;
const MINUTES = 20;

/** Each upstream source partition's events, in its own order, with its progress (as enrich writes it). */
function sourceEvents(source: number): InMemoryInput[] {
  const events: InMemoryInput[] = [];
  for (let t = source * 700; t < MINUTES * WINDOW_MS; t += 2_900) {
    for (const service of ['checkout', 'search']) {
      const event = request(service, T0 + t, 5 + ((t / 100 + source) % 300), `/e${source}`);
      events.push(
        send(event, {
          watermark: { topic: 'requests.valid', partition: source, partitions: SOURCES, progressMs: T0 + t },
        }),
      );
    }
  }
  return events;
}

/** Live: the sources keep pace, so their events reach the aggregate in event-time order. */
function liveOrder(): InMemoryInput[] {
  const all = Array.from({ length: SOURCES }, (_, s) => sourceEvents(s)).flat();
  return all.sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0));
}

/** A backlog read back: source s moves s+1 records per turn, so source 2 runs minutes ahead of source 0. */
function backlogOrder(): InMemoryInput[] {
  const queues = Array.from({ length: SOURCES }, (_, s) => sourceEvents(s));
  const order: InMemoryInput[] = [];
  while (queues.some((q) => q.length > 0))
    queues.forEach((queue, s) => order.push(...queue.splice(0, s + 1)));
  return order;
}

async function replay(inputs: InMemoryInput[], options: { headers: boolean }) {
  const driver = await driverFor();
  const records = options.headers ? inputs : inputs.map(({ watermark: _dropped, ...rest }) => rest);
  await driver.input().send(records);
  driver.advanceWallClockTime(IDLE_MS + 10 * WINDOW_MS); // closes what is left, by wall clock
  await driver.tick();
  const rows = [...driver.output('stats')].sort(
    (a, b) =>
      a.service.localeCompare(b.service) ||
      a.endpoint.localeCompare(b.endpoint) ||
      a.window_start - b.window_start ||
      a.revision - b.revision,
  );
  return { rows, late: driver.counted.get('late_event:corrected') ?? 0 };
}
