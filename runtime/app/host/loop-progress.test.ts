import { afterEach, describe, expect, it, vi } from 'vitest';
import { LoopProgress } from './loop-progress.ts';

describe('LoopProgress', () => {
  afterEach(() => vi.useRealTimers());

  it('is live until the bound passes without progress, and live again once the loop progresses', () => {
    vi.useFakeTimers();
    const progress = new LoopProgress(1000);
    vi.advanceTimersByTime(999);
    expect(progress.status().ok).toBe(true);
    vi.advanceTimersByTime(2);
    const stalled = progress.status();
    expect(stalled.ok).toBe(false);
    expect(stalled.reason).toContain('no progress for 1001 ms');
    progress.progressed();
    expect(progress.status().ok).toBe(true);
  });

  it('stays live past the bound while an expected wait is excused', () => {
    vi.useFakeTimers();
    const progress = new LoopProgress(1000);
    vi.advanceTimersByTime(5000);
    expect(progress.status('store unavailable: retrying')).toEqual({
      ok: true,
      reason: 'store unavailable: retrying',
    });
    expect(progress.status().ok).toBe(false);
  });
});
