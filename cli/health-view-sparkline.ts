// Sparklines for the health view: one block character per point, and how many points (and minutes per
// point) fit a terminal's width beside the view's fixed columns.

export const BARS = '▁▂▃▄▅▆▇█';
/** A point with no data (no window closed for it yet): blank, so it cannot read as zero. */
export const MISSING = ' ';

/**
 * The bar for each point, scaled from 0 to the larger of the series' maximum and `floor`. With the SLO as
 * the floor, a series that stays under its SLO never reaches the top bar.
 */
export function sparkBars(values: ReadonlyArray<number | undefined>, floor = 0): string[] {
  const top = Math.max(floor, ...values.map((v) => (v !== undefined && Number.isFinite(v) ? v : 0)));
  return values.map((v) => {
    if (v === undefined || !Number.isFinite(v)) return MISSING;
    if (top <= 0) return BARS[0] ?? '';
    const level = Math.round((Math.max(0, v) / top) * (BARS.length - 1));
    return BARS[Math.min(BARS.length - 1, level)] ?? '';
  });
}

export function sparkline(values: ReadonlyArray<number | undefined>, floor = 0): string {
  return sparkBars(values, floor).join('');
}

/** Width of everything in a service row but its three sparklines (names, current values, SLOs, gaps). */
export const FIXED_ROW_WIDTH = 64;
/** Narrower than this, a sparkline says too little: the row wraps instead. */
export const MIN_SPARK_WIDTH = 8;

export interface SparkLayout {
  /** Points per sparkline. */
  points: number;
  /** Minutes each point covers (1 when every minute fits). */
  stepMinutes: number;
}

/**
 * One point per minute when `minutes` fit three times beside the fixed columns of `width`; otherwise
 * each point covers the fewest whole minutes that make them fit (so the view still spans `minutes`).
 */
export function sparkLayout(width: number, minutes: number): SparkLayout {
  const room = Math.max(MIN_SPARK_WIDTH, Math.floor((width - FIXED_ROW_WIDTH) / 3));
  const wanted = Math.max(1, Math.round(minutes));
  const stepMinutes = Math.ceil(wanted / room);
  return { points: Math.ceil(wanted / stepMinutes), stepMinutes };
}
