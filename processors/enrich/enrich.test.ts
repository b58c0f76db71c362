// enrich in the harness: lookups at event time across version changes and tombstones; misses are
// counted per table with the fields null, never dead-lettered.
import { describe, expect, it } from 'vitest';
import type { Customer, EnrichedRequest, RequestEvent, Service } from '../../runtime/contracts/index.ts';
import { TestDriver } from '../../runtime/testing/run-in-memory.ts';
import { enrich } from './enrich.ts';

/** A record of a reference topic: a value valid from its updated_at, or a tombstone at its timestamp. */
interface TableRecord<V> {
  key: string;
  value: V | null;
  timestamp: number;
}

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const MINUTE = 60_000;
const DAY = 86_400_000;

function event(id: string, ts: number, service = 'checkout', customer = 'c-1'): RequestEvent {
  return {
    event_id: id,
    ts,
    service,
    endpoint: '/api/orders/{id}',
    method: 'GET',
    status: 200,
    latency_ms: 12.5,
    bytes_out: 512,
    customer_id: customer,
    region: 'eu-west-1',
    ingested_at: ts + 1000,
  };
}

function service(latencySloMs: number, updatedAt: number, name = 'checkout'): TableRecord<Service> {
  const value: Service = {
    service: name,
    team: 'payments',
    tier: 1,
    latency_slo_ms: latencySloMs,
    availability_slo: 0.999,
    updated_at: updatedAt,
  };
  return { key: name, value, timestamp: updatedAt };
}

function customer(plan: string, updatedAt: number, id = 'c-1'): TableRecord<Customer> {
  const value: Customer = { customer_id: id, plan, account_region: 'us-east-1', updated_at: updatedAt };
  return { key: id, value, timestamp: updatedAt };
}

async function run(
  events: RequestEvent[],
  tables: { services?: TableRecord<Service>[]; customers?: TableRecord<Customer>[] },
  now = T0 + DAY,
): Promise<{ enriched: EnrichedRequest[]; keys: (string | null)[]; counted: ReadonlyMap<string, number> }> {
  const driver = await TestDriver.create(enrich, { wallClockMs: now });
  for (const r of tables.services ?? []) {
    if (r.value === null) driver.table('services').delete(r.key, r.timestamp);
    else driver.table('services').put(r.key, r.value, r.value.updated_at);
  }
  for (const r of tables.customers ?? []) {
    if (r.value === null) driver.table('customers').delete(r.key, r.timestamp);
    else driver.table('customers').put(r.key, r.value, r.value.updated_at);
  }
  await driver
    .input()
    .send(events.map((e) => ({ key: e.event_id, value: { ...e }, timestamp: e.ingested_at })));
  expect(driver.deadLetters).toEqual([]);
  const outputs = driver.outputRecords('enriched');
  return { enriched: outputs.map((o) => o.value), keys: outputs.map((o) => o.key), counted: driver.counted };
}

describe('enrich', () => {
  it('joins across a version change by event time, whatever order the events come in', async () => {
    const services = [service(200, T0), service(300, T0 + 10 * MINUTE)];
    const events = [event('after', T0 + 15 * MINUTE), event('before', T0 + 5 * MINUTE)];
    const { enriched, keys, counted } = await run(events, { services, customers: [customer('pro', T0)] });
    expect(enriched.map((e) => [e.event_id, e.latency_slo_ms])).toEqual([
      ['after', 300],
      ['before', 200],
    ]);
    expect(enriched[1]).toMatchObject({
      ...event('before', T0 + 5 * MINUTE),
      team: 'payments',
      tier: 1,
      availability_slo: 0.999,
      plan: 'pro',
      account_region: 'us-east-1',
      service_miss: null,
      customer_miss: null,
    });
    expect(keys).toEqual(['checkout', 'checkout']);
    expect(counted.size).toBe(0);
  });

  it('a tombstone then a miss: the customer is known before its deletion and missing after it', async () => {
    const customers = [customer('enterprise', T0), { key: 'c-1', value: null, timestamp: T0 + 10 * MINUTE }];
    const events = [event('known', T0 + 9 * MINUTE), event('deleted', T0 + 11 * MINUTE)];
    const { enriched, counted } = await run(events, { services: [service(200, T0)], customers });
    expect(enriched[0]).toMatchObject({ plan: 'enterprise', customer_miss: null });
    expect(enriched[1]).toMatchObject({
      plan: null,
      account_region: null,
      customer_miss: 'deleted',
      team: 'payments',
    });
    expect(Object.fromEntries(counted)).toEqual({ 'lookup_miss:customers_deleted': 1 });
  });

  it('counts misses per table with the fields null, and still emits every event', async () => {
    const events = [
      event('a', T0 + MINUTE, 'no-such-service'),
      event('b', T0 + MINUTE, 'no-such-service', 'c-unknown'),
      event('c', T0 + MINUTE, 'checkout', 'c-unknown'),
    ];
    const { enriched, keys, counted } = await run(events, {
      services: [service(200, T0)],
      customers: [customer('free', T0)],
    });
    expect(enriched).toHaveLength(3);
    expect(keys).toEqual(['no-such-service', 'no-such-service', 'checkout']);
    expect(enriched[0]).toMatchObject({
      team: null,
      tier: null,
      latency_slo_ms: null,
      availability_slo: null,
      service_miss: 'unknown_key',
      plan: 'free',
    });
    expect(Object.fromEntries(counted)).toEqual({
      'lookup_miss:services_unknown_key': 2,
      'lookup_miss:customers_unknown_key': 2,
    });
  });

  it('an event older than the oldest kept version misses with before_history', async () => {
    // Nine days on, the first version's successor has been valid for longer than the 8-day history.
    const services = [service(200, T0), service(300, T0 + MINUTE)];
    const events = [
      event('pruned', T0 + 30_000),
      event('before-first', T0 - 2 * DAY),
      event('kept', T0 + 2 * MINUTE),
    ];
    const customers = [customer('pro', T0 - 3 * DAY)];
    const { enriched, counted } = await run(events, { services, customers }, T0 + 9 * DAY);
    expect(enriched.map((e) => [e.event_id, e.service_miss, e.latency_slo_ms, e.plan])).toEqual([
      ['pruned', 'before_history', null, 'pro'],
      ['before-first', 'before_history', null, 'pro'],
      ['kept', null, 300, 'pro'],
    ]);
    expect(Object.fromEntries(counted)).toEqual({ 'lookup_miss:services_before_history': 2 });
  });
});
