import { describe, expect, it } from 'vitest';
import { nextBackoffMs, withJitter } from './backoff.ts';

describe('retry backoff', () => {
  it('doubles from 100 ms up to the cap', () => {
    const waits: number[] = [];
    let ms = 0;
    for (let i = 0; i < 8; i++) waits.push((ms = nextBackoffMs(ms, 5_000)));
    expect(waits).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  it('jitters each wait within [half, all] of it, so retries of many clients spread out', () => {
    expect(withJitter(1000, () => 0)).toBe(500);
    expect(withJitter(1000, () => 0.999_999)).toBe(1000);
    const draws = Array.from({ length: 200 }, () => withJitter(1000));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...draws)).toBeLessThanOrEqual(1000);
    expect(new Set(draws).size).toBeGreaterThan(20);
  });
});
