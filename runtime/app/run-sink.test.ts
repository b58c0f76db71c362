import { describe, expect, it } from 'vitest';
import { livenessOf } from './run-sink.ts';

describe("a sink's liveness", () => {
  it('goes false when the loop stops committing (a commit retried forever), though it keeps turning', () => {
    expect(livenessOf(5_000, undefined).ok).toBe(true);
    expect(livenessOf(181_000, undefined)).toEqual({
      ok: false,
      reason: 'no commit for 181000 ms with records pending',
    });
  });

  it('stays true through a store outage, which readiness reports', () => {
    expect(livenessOf(600_000, 'store unavailable for 600 s: down')).toEqual({
      ok: true,
      reason: 'store unavailable for 600 s: down',
    });
  });
});
