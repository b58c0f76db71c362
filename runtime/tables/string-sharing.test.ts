import { describe, expect, it } from 'vitest';
import { StringSharing } from './string-sharing.ts';
import { SizeSampler, approximateBytes } from './size-estimate.ts';

describe('StringSharing', () => {
  it('shares low-cardinality fields and the field equal to the key, and reports the bytes shared', () => {
    const sharing = new StringSharing(4);
    const first = { customer_id: 'c-1', plan: 'enterprise', updated_at: 1 };
    const second = { customer_id: 'c-2', plan: 'enterprise', updated_at: 2 };
    // The first 'enterprise' becomes the pool's copy; only the key-equal id is shared.
    expect(sharing.share('c-1', first)).toBe(approximateBytes('c-1'));
    expect(sharing.share('c-2', second)).toBe(approximateBytes('c-2') + approximateBytes('enterprise'));
    expect(second).toEqual({ customer_id: 'c-2', plan: 'enterprise', updated_at: 2 });
  });

  it('stops pooling a field once it shows more distinct values than the bound (an id field)', () => {
    const sharing = new StringSharing(2);
    for (const id of ['a', 'b', 'c']) sharing.share('key', { id, plan: 'free' });
    // 'a' and 'b' filled the pool, 'c' turned pooling of `id` off: a repeat of 'a' is no longer shared.
    expect(sharing.share('key', { id: 'a', plan: 'free' })).toBe(approximateBytes('free'));
  });
});

describe('SizeSampler', () => {
  it('estimates from sampled key and value sizes, minus what the values share', () => {
    const sampler = new SizeSampler();
    sampler.offer('c-1', { plan: 'free' }, approximateBytes('free'));
    const one = sampler.estimate(1, 1);
    expect(sampler.estimate(1000, 1000)).toBe(1000 * one);
    // Older versions cost less than keys (no Map entry), but more than nothing.
    const withHistory = sampler.estimate(1000, 1500) - sampler.estimate(1000, 1000);
    expect(withHistory).toBeGreaterThan(0);
    expect(withHistory).toBeLessThan(500 * one);
  });
});
