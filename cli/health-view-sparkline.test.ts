import { describe, expect, it } from 'vitest';
import { FIXED_ROW_WIDTH, MIN_SPARK_WIDTH, sparkLayout, sparkline } from './health-view-sparkline.ts';

describe('sparkline', () => {
  it('scales from 0 to the series maximum, one bar per point', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([10, 20, 40])).toBe('▃▅█');
  });

  it('scales to the floor (the SLO) when the series stays under it', () => {
    expect(sparkline([50, 100], 200)).toBe('▃▅');
    expect(sparkline([50, 400], 200)).toBe('▂█');
  });

  it('leaves a missing point blank, and an all-zero series on the lowest bar', () => {
    expect(sparkline([4, undefined, 8])).toBe('▅ █');
    expect(sparkline([0, 0, undefined])).toBe('▁▁ ');
    expect(sparkline([])).toBe('');
  });

  it('treats a non-finite point as missing, not as the top', () => {
    expect(sparkline([1, Number.NaN, 2, Number.POSITIVE_INFINITY])).toBe('▅ █ ');
  });
});

describe('sparkLayout', () => {
  it('gives a point per minute when three sparklines of every minute fit the width', () => {
    expect(sparkLayout(FIXED_ROW_WIDTH + 3 * 30, 30)).toEqual({ points: 30, stepMinutes: 1 });
    expect(sparkLayout(160, 30)).toEqual({ points: 30, stepMinutes: 1 });
  });

  it('widens the points to whole minutes when they do not, still spanning every minute', () => {
    // 120 columns leave 18 per sparkline: 30 minutes as 15 points of 2 minutes.
    expect(sparkLayout(120, 30)).toEqual({ points: 15, stepMinutes: 2 });
    expect(sparkLayout(120, 31)).toEqual({ points: 16, stepMinutes: 2 });
    expect(sparkLayout(120, 60)).toEqual({ points: 15, stepMinutes: 4 });
  });

  it('keeps a minimum sparkline width on a very narrow terminal', () => {
    expect(sparkLayout(40, 30)).toEqual({ points: 8, stepMinutes: 4 });
    expect(sparkLayout(40, 30).points).toBeLessThanOrEqual(MIN_SPARK_WIDTH);
  });
});
