// Lag from librdkafka's statistics: what readiness, liveness and tributary_consumer_lag_records read.
import { describe, expect, it } from 'vitest';
import { lagFromStats } from './input-consumer.ts';

describe('lagFromStats', () => {
  // Regression (issue 12, aggregate-reconcile e2e): a copy restarted on a backlog of 15k records caught
  // up, but librdkafka's consumer_lag counts from the committed offset it fetched at the assignment, which
  // transactional commits never update; the lag stayed above readyMaxLag and /readyz never turned ready.
  it('counts from what the copy consumed, not from the committed offset librdkafka saw at assignment', () => {
    const stale = { ls_offset: 20_000, hi_offset: 20_001, committed_offset: 5_000, consumer_lag: 15_000 };
    expect(lagFromStats({ ...stale, app_offset: 20_000 })).toBe(0);
    expect(lagFromStats({ ...stale, app_offset: 19_000 })).toBe(1_000);
  });

  it('reads to the last stable offset (read_committed): an open transaction at the end is no lag', () => {
    expect(lagFromStats({ ls_offset: 100, hi_offset: 180, app_offset: 100, committed_offset: 90 })).toBe(0);
  });

  it('falls back to librdkafka\u2019s lag before anything was consumed, and is unknown before offsets are', () => {
    expect(
      lagFromStats({ ls_offset: 500, app_offset: -1001, committed_offset: -1001, consumer_lag: 500 }),
    ).toBe(500);
    expect(
      lagFromStats({ ls_offset: -1001, hi_offset: -1001, app_offset: -1001, consumer_lag: -1 }),
    ).toBeUndefined();
  });
});
