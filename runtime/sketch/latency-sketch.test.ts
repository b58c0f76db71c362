import { describe, expect, it } from 'vitest';
import { TributaryError } from '../errors.ts';
import { addToBuckets, addToBucketsInPlace, bucketIndex, bucketValue, emptyBuckets } from './buckets.ts';
import type { LatencyBuckets } from './buckets.ts';
import { LatencySketch } from './latency-sketch.ts';
import {
  exactQuantile,
  lognormalLatencies,
  paretoLatencies,
  seededUniform,
} from '../testing/seeded-latencies.ts';

function sketchOf(values: readonly number[], accuracy?: number): LatencySketch {
  const sketch = new LatencySketch(accuracy);
  for (const value of values) sketch.add(value);
  return sketch;
}

const QUANTILES = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];
/** One part in 10^12 over the stated accuracy: the boundary case is exactly a, give or take rounding. */
const SLACK = 1e-12;

describe('LatencySketch accuracy', () => {
  const datasets = [
    { name: 'lognormal (median 40 ms, sigma 1)', values: lognormalLatencies(50_000, 40, 1, 1) },
    { name: 'lognormal, wide (median 3 ms, sigma 2.5)', values: lognormalLatencies(50_000, 3, 2.5, 2) },
    { name: 'Pareto, heavy tail', values: paretoLatencies(50_000, 5, 1.2, 3) },
    { name: 'small sample with sub-millisecond values', values: lognormalLatencies(101, 0.2, 1.5, 4) },
  ];
  it.each(datasets)('every quantile of $name lies within 1% of the exact one', ({ values }) => {
    const sketch = sketchOf(values);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of QUANTILES) {
      const exact = exactQuantile(sorted, q);
      const relativeError = Math.abs(sketch.quantile(q) - exact) / exact;
      expect(relativeError, `q=${q}`).toBeLessThanOrEqual(0.01 + SLACK);
    }
  });

  it('a coarser accuracy is kept too (5%)', () => {
    const values = paretoLatencies(20_000, 5, 1.2, 5);
    const sketch = sketchOf(values, 0.05);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of QUANTILES) {
      const exact = exactQuantile(sorted, q);
      expect(Math.abs(sketch.quantile(q) - exact) / exact).toBeLessThanOrEqual(0.05 + SLACK);
    }
  });

  it('counts 0 ms in the zero bucket, which reads back as 0, and an empty sketch answers NaN', () => {
    const sketch = sketchOf([0, 0, 0, 10]);
    expect(sketch.toBuckets().zeroCount).toBe(3);
    expect(sketch.quantile(0.5)).toBe(0);
    expect(Math.abs(sketch.quantile(1) - 10) / 10).toBeLessThanOrEqual(0.01);
    expect(new LatencySketch().quantile(0.5)).toBeNaN();
  });
});

describe('LatencySketch merge', () => {
  const values = [...lognormalLatencies(3000, 40, 1, 7), ...paretoLatencies(3000, 5, 1.2, 8), 0, 0];
  const parts = [values.slice(0, 1000), values.slice(1000, 4500), values.slice(4500)];

  it('equals one sketch of all the values, in any grouping and order', () => {
    const one = sketchOf(values);
    const part = (i: number): LatencySketch => sketchOf(parts[i] as number[]);
    const merged = (into: LatencySketch, ...others: LatencySketch[]): LatencySketch => {
      for (const other of others) into.merge(other);
      return into;
    };
    const groupings = [
      merged(merged(part(0), part(1)), part(2)), // (a+b)+c
      merged(part(0), merged(part(1), part(2))), // a+(b+c)
      merged(part(2), part(0), part(1)), // c+a+b
      merged(part(1), part(2), part(0)), // b+c+a
    ];
    for (const sketch of groupings) {
      expect(sketch.toBuckets()).toEqual(one.toBuckets());
      expect(sketch.count).toBe(values.length);
      for (const q of QUANTILES) expect(sketch.quantile(q)).toBe(one.quantile(q));
    }
  });

  it('merging into or from an empty sketch changes nothing', () => {
    const full = sketchOf(parts[0] as number[]);
    const empty = new LatencySketch();
    empty.merge(full);
    expect(empty.toBuckets()).toEqual(full.toBuckets());
    full.merge(new LatencySketch());
    expect(full.toBuckets()).toEqual(empty.toBuckets());
  });

  it('refuses a sketch of another accuracy', () => {
    const error = catchError(() => new LatencySketch(0.01).merge(new LatencySketch(0.02)));
    expect(error.code).toBe('TRIBUTARY_SKETCH_INCOMPATIBLE');
  });
});

describe('bucket mapping (schemas/stats-minute.avsc)', () => {
  const accuracy = 0.01;
  const gamma = (1 + accuracy) / (1 - accuracy);

  it('puts x in bucket ceil(log_gamma(x)), which covers (gamma^(i-1), gamma^i]', () => {
    const random = seededUniform(11);
    for (let n = 0; n < 20_000; n++) {
      const x = Math.pow(10, -3 + 9 * random()); // 1 us .. 1000 s, log-uniform
      const i = bucketIndex(x, accuracy) as number;
      const logGamma = Math.log(x) / Math.log(gamma);
      // Rounding can only matter within a hair of a bucket boundary.
      if (Math.abs(logGamma - Math.round(logGamma)) > 1e-9) expect(i).toBe(Math.ceil(logGamma) + 0); // + 0: -0 is 0
      expect(x).toBeGreaterThan(Math.pow(gamma, i - 1) * (1 - 1e-12));
      expect(x).toBeLessThanOrEqual(Math.pow(gamma, i) * (1 + 1e-12));
    }
  });

  it('reads bucket i as 2 gamma^i / (gamma + 1), within a of every value in the bucket', () => {
    for (let i = -400; i <= 1000; i += 7) {
      const value = bucketValue(i, accuracy);
      const formula = (2 * Math.pow(gamma, i)) / (gamma + 1);
      expect(Math.abs(value - formula) / formula).toBeLessThan(1e-12);
      expect(value / Math.pow(gamma, i - 1)).toBeLessThanOrEqual(1 + accuracy + SLACK);
      expect(value / Math.pow(gamma, i)).toBeGreaterThanOrEqual(1 - accuracy - SLACK);
    }
  });

  it('keeps 0 ms out of the buckets (the zero count)', () => {
    expect(bucketIndex(0, accuracy)).toBeUndefined();
    expect(bucketIndex(0.001, accuracy)).toBe(Math.ceil(Math.log(0.001) / Math.log(gamma)));
  });
});

describe('plain bucket form', () => {
  const values = [...lognormalLatencies(2000, 25, 1.2, 21), 0];

  it('round-trips through JSON with the same buckets and quantiles', () => {
    const sketch = sketchOf(values);
    const json = JSON.parse(JSON.stringify(sketch)) as LatencyBuckets;
    const back = LatencySketch.fromBuckets(json);
    expect(back.toBuckets()).toEqual(sketch.toBuckets());
    expect(back.count).toBe(values.length);
    for (const q of QUANTILES) expect(back.quantile(q)).toBe(sketch.quantile(q));
  });

  it('addToBuckets gives the sketch buckets and leaves its input unchanged', () => {
    let buckets = emptyBuckets();
    for (const value of values) {
      const before = JSON.stringify(buckets);
      const after = addToBuckets(buckets, value);
      expect(JSON.stringify(buckets)).toBe(before);
      buckets = after;
    }
    expect(buckets).toEqual(sketchOf(values).toBuckets());
  });

  it('addToBucketsInPlace gives the same buckets, changing and returning its input', () => {
    const buckets = emptyBuckets();
    for (const value of values) expect(addToBucketsInPlace(buckets, value)).toBe(buckets);
    expect(buckets).toEqual(sketchOf(values).toBuckets());
  });

  it.each<[string, Partial<LatencyBuckets>]>([
    ['arrays of different lengths', { index: [1, 2], count: [1] }],
    ['indexes not ascending', { index: [3, 2], count: [1, 1] }],
    ['a zero count in a bucket', { index: [1], count: [0] }],
    ['a negative zero count', { zeroCount: -1 }],
    ['an accuracy out of range', { relativeAccuracy: 1 }],
  ])('fromBuckets refuses %s', (_name, change) => {
    const buckets: LatencyBuckets = { relativeAccuracy: 0.01, zeroCount: 0, index: [], count: [], ...change };
    expect(catchError(() => LatencySketch.fromBuckets(buckets)).code).toBe('TRIBUTARY_SKETCH_INVALID');
  });

  it('refuses a negative or non-finite latency and a quantile outside [0, 1]', () => {
    const sketch = new LatencySketch();
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(catchError(() => sketch.add(bad)).code).toBe('TRIBUTARY_SKETCH_INVALID');
    expect(catchError(() => sketch.quantile(1.5)).code).toBe('TRIBUTARY_SKETCH_INVALID');
  });
});

function catchError(run: () => unknown): TributaryError {
  try {
    run();
  } catch (error) {
    if (error instanceof TributaryError) return error;
    throw error;
  }
  throw new Error('expected a TributaryError');
}
