import { describe, expect, it } from 'vitest';
import { VersionedTable } from './versioned-table.ts';

const DAY = 86_400_000;
const NOW = 1_767_225_600_000;

interface Plan {
  plan: string;
}

function table(historyMs = 8 * DAY, now = (): number => NOW): VersionedTable<Plan> {
  return new VersionedTable<Plan>({ historyMs, now });
}

describe('VersionedTable', () => {
  it('joins at event time across a version change: each side of the change sees its own version', () => {
    const t = table();
    t.put('c-1', NOW - 2 * DAY, { plan: 'free' });
    t.put('c-1', NOW - DAY, { plan: 'pro' });
    expect(t.get('c-1', NOW - 2 * DAY)).toEqual({ plan: 'free' });
    expect(t.get('c-1', NOW - DAY - 1)).toEqual({ plan: 'free' });
    expect(t.get('c-1', NOW - DAY)).toEqual({ plan: 'pro' });
    expect(t.get('c-1', NOW)).toEqual({ plan: 'pro' });
    expect(t.versions).toBe(2);
    expect(t.keys).toBe(1);
  });

  it('a tombstone makes later lookups miss as deleted, earlier ones still see the value', () => {
    const t = table();
    t.put('c-1', NOW - DAY, { plan: 'pro' });
    t.delete('c-1', NOW - 1000);
    expect(t.get('c-1', NOW)).toBeUndefined();
    expect(t.explainMiss('c-1', NOW)).toBe('deleted');
    expect(t.get('c-1', NOW - 1001)).toEqual({ plan: 'pro' });
    expect(t.explainMiss('c-1', NOW - 1001)).toBeUndefined();
    expect(t.liveKeys).toBe(0);
    expect(t.keys).toBe(1);
  });

  it('tells a key it never saw from a time before its oldest kept version', () => {
    const t = table();
    t.put('c-1', NOW - DAY, { plan: 'pro' });
    expect(t.get('c-2', NOW)).toBeUndefined();
    expect(t.explainMiss('c-2', NOW)).toBe('unknown_key');
    expect(t.get('c-1', NOW - DAY - 1)).toBeUndefined();
    expect(t.explainMiss('c-1', NOW - DAY - 1)).toBe('before_history');
  });

  it('puts a version that arrives late (earlier valid time) in order, and replaces one of the same time', () => {
    const t = table();
    t.put('c-1', NOW - DAY, { plan: 'enterprise' });
    t.put('c-1', NOW - 3 * DAY, { plan: 'free' });
    t.put('c-1', NOW - 2 * DAY, { plan: 'pro' });
    t.put('c-1', NOW - 2 * DAY, { plan: 'pro-annual' });
    expect(t.get('c-1', NOW - 3 * DAY + 1)).toEqual({ plan: 'free' });
    expect(t.get('c-1', NOW - 2 * DAY + 1)).toEqual({ plan: 'pro-annual' });
    expect(t.get('c-1', NOW)).toEqual({ plan: 'enterprise' });
    expect(t.versions).toBe(3);
  });

  it('prunes versions superseded before the history bound, keeping the one valid at the horizon', () => {
    let now = NOW;
    const t = table(7 * DAY, () => now);
    t.put('c-1', NOW - 20 * DAY, { plan: 'free' });
    t.put('c-1', NOW - 10 * DAY, { plan: 'pro' });
    t.put('c-1', NOW - 3 * DAY, { plan: 'enterprise' });
    // 'free' was replaced 10 days ago (beyond 7): dropped at once; 'pro' was valid at the horizon: kept.
    expect(t.versions).toBe(2);
    expect(t.explainMiss('c-1', NOW - 15 * DAY)).toBe('before_history');
    expect(t.get('c-1', NOW - 7 * DAY)).toEqual({ plan: 'pro' });
    now = NOW + 5 * DAY;
    expect(t.prune()).toBe(1);
    expect(t.get('c-1', NOW - 7 * DAY)).toBeUndefined();
    expect(t.get('c-1', now)).toEqual({ plan: 'enterprise' });
    expect(t.versions).toBe(1);
  });

  it('forgets a deleted key once its tombstone is older than the history bound', () => {
    let now = NOW;
    const t = table(7 * DAY, () => now);
    t.put('c-1', NOW - 2 * DAY, { plan: 'pro' });
    t.delete('c-1', NOW - DAY);
    t.put('c-2', NOW - 2 * DAY, { plan: 'free' });
    expect(t.prune()).toBe(0);
    now = NOW + 10 * DAY;
    expect(t.prune()).toBe(2);
    expect(t.explainMiss('c-1', now)).toBe('unknown_key');
    expect(t.keys).toBe(1);
    // The freed slot is reused by the next new key, and the kept key is untouched.
    t.put('c-3', now, { plan: 'enterprise' });
    expect(t.get('c-3', now)).toEqual({ plan: 'enterprise' });
    expect(t.get('c-2', now)).toEqual({ plan: 'free' });
    expect(t.keys).toBe(2);
  });

  it('holds many single-version keys without history objects, and grows past its first slots', () => {
    const t = table();
    for (let i = 0; i < 5000; i++) t.put(`c-${i}`, NOW - i, { plan: `p-${i % 3}` });
    expect(t.keys).toBe(5000);
    expect(t.versions).toBe(5000);
    expect(t.get('c-4999', NOW)).toEqual({ plan: 'p-1' });
    expect(t.explainMiss('c-4999', NOW - 5000)).toBe('before_history');
  });
});
