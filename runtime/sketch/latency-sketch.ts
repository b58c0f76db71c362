// LatencySketch: DDSketch (@datadog/sketches-js, logarithmic mapping, unbounded dense store) behind the
// small API the pipeline needs. quantile(q) is DDSketch's rank convention: the value of the bucket that
// holds the element of 0-based rank floor(q (n-1)) in ascending order, so the exact counterpart of
// quantile(q) is that element of the sorted values (README "Querying latency quantiles" gives the SQL).
import { DDSketch } from '@datadog/sketches-js';
import { TributaryError } from '../errors.ts';
import { DEFAULT_RELATIVE_ACCURACY, checkAccuracy, checkBuckets, checkLatency } from './buckets.ts';
import type { LatencyBuckets } from './buckets.ts';

export class LatencySketch {
  private readonly sketch: DDSketch;

  constructor(readonly relativeAccuracy: number = DEFAULT_RELATIVE_ACCURACY) {
    checkAccuracy(relativeAccuracy);
    this.sketch = new DDSketch({ relativeAccuracy });
  }

  /** How many values the sketch holds. */
  get count(): number {
    return this.sketch.count;
  }

  add(ms: number): void {
    checkLatency(ms);
    this.sketch.accept(ms);
  }

  merge(other: LatencySketch): void {
    if (other.sketch.mapping.gamma !== this.sketch.mapping.gamma)
      throw new TributaryError(
        'TRIBUTARY_SKETCH_INCOMPATIBLE',
        `cannot merge a sketch of relative accuracy ${other.relativeAccuracy} into one of ${this.relativeAccuracy}`,
        { context: { into: this.relativeAccuracy, from: other.relativeAccuracy } },
      );
    this.sketch.merge(other.sketch);
  }

  /** The value at quantile q in [0, 1]; NaN when the sketch is empty. */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1))
      throw new TributaryError('TRIBUTARY_SKETCH_INVALID', `quantile ${q} is not in [0, 1]`);
    return this.sketch.getValueAtQuantile(q);
  }

  toBuckets(): LatencyBuckets {
    const { store } = this.sketch;
    const index: number[] = [];
    const count: number[] = [];
    for (let key = store.minKey; store.count > 0 && key <= store.maxKey; key++) {
      const n = store.bins[key - store.offset] ?? 0;
      if (n === 0) continue;
      index.push(key);
      count.push(n);
    }
    return { relativeAccuracy: this.relativeAccuracy, zeroCount: this.sketch.zeroCount, index, count };
  }

  /** The plain form, so `JSON.stringify(sketch)` gives what `fromBuckets` reads back. */
  toJSON(): LatencyBuckets {
    return this.toBuckets();
  }

  static fromBuckets(buckets: LatencyBuckets): LatencySketch {
    checkBuckets(buckets);
    const result = new LatencySketch(buckets.relativeAccuracy);
    const { sketch } = result;
    // A bucket's own value maps back to that bucket (log_gamma(2/(1+gamma)) is about -1/2, far from an
    // integer), so accept() refills exactly the stored buckets through the package's public API.
    buckets.index.forEach((key, i) => {
      sketch.accept(sketch.mapping.value(key), buckets.count[i]);
    });
    if (buckets.zeroCount > 0) sketch.accept(0, buckets.zeroCount);
    return result;
  }
}
