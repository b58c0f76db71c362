// The plain form of a latency sketch (what stats.1m carries, state stores hold and ClickHouse merges), and
// the logarithmic mapping behind it. The mapping is @datadog/sketches-js's LogarithmicMapping, which is
// exactly what schemas/stats-minute.avsc documents: gamma = (1+a)/(1-a), bucket i = ceil(log_gamma(x))
// covers (gamma^(i-1), gamma^i], and stands for 2 gamma^i / (gamma+1), within a of every x in it.
import { DDSketch } from '@datadog/sketches-js';
import { TributaryError } from '../errors.ts';
import type { LatencyBuckets } from '../contracts/records.ts';

/** The schema's accuracy: a quantile read from the sketch is within 1% of the exact value. */
export const DEFAULT_RELATIVE_ACCURACY = 0.01;

/**
 * A sketch as plain data (schemas/window-stats.avsc's LatencyBuckets): ascending bucket indexes and
 * their counts, in parallel; zeroCount holds values too small for a bucket (at or below the mapping's
 * smallest indexable value, e.g. 0 ms).
 */
export type { LatencyBuckets };

export function emptyBuckets(relativeAccuracy: number = DEFAULT_RELATIVE_ACCURACY): LatencyBuckets {
  checkAccuracy(relativeAccuracy);
  return { relativeAccuracy, zeroCount: 0, index: [], count: [] };
}

/** `buckets` with one more value, as new arrays: the input is left as it was (a store may still hold it). */
export function addToBuckets(buckets: LatencyBuckets, ms: number): LatencyBuckets {
  return addToBucketsInPlace({ ...buckets, index: buckets.index.slice(), count: buckets.count.slice() }, ms);
}

/** Adds one value to `buckets` itself and returns it: no copy (see addRequestInPlace for when that is safe). */
export function addToBucketsInPlace(buckets: LatencyBuckets, ms: number): LatencyBuckets {
  const key = bucketIndex(ms, buckets.relativeAccuracy);
  if (key === undefined) {
    buckets.zeroCount++;
    return buckets;
  }
  const { index, count } = buckets;
  let low = 0;
  let high = index.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((index[middle] as number) < key) low = middle + 1;
    else high = middle;
  }
  if (index[low] === key) {
    count[low] = (count[low] as number) + 1;
  } else {
    index.splice(low, 0, key);
    count.splice(low, 0, 1);
  }
  return buckets;
}

/** The bucket a latency falls in; undefined for the zero bucket. */
export function bucketIndex(
  ms: number,
  relativeAccuracy: number = DEFAULT_RELATIVE_ACCURACY,
): number | undefined {
  checkLatency(ms);
  const { mapping } = mappingOf(relativeAccuracy);
  return ms > mapping.minPossible ? mapping.key(ms) : undefined;
}

/** The value bucket `index` stands for: 2 gamma^i / (gamma + 1). */
export function bucketValue(index: number, relativeAccuracy: number = DEFAULT_RELATIVE_ACCURACY): number {
  return mappingOf(relativeAccuracy).mapping.value(index);
}

const mappingSketches = new Map<number, DDSketch>();

/** An empty sketch per accuracy, for its mapping: the package exports no mapping from its entry point. */
export function mappingOf(relativeAccuracy: number): DDSketch {
  let sketch = mappingSketches.get(relativeAccuracy);
  if (sketch === undefined) {
    checkAccuracy(relativeAccuracy);
    sketch = new DDSketch({ relativeAccuracy });
    mappingSketches.set(relativeAccuracy, sketch);
  }
  return sketch;
}

export function checkAccuracy(relativeAccuracy: number): void {
  if (!(relativeAccuracy > 0 && relativeAccuracy < 1))
    throw invalid(`relative accuracy ${relativeAccuracy} is not in (0, 1)`);
}

export function checkLatency(ms: number): void {
  // Latencies are validated upstream (ingest); a negative or non-finite one here is a bug, not data.
  if (!(Number.isFinite(ms) && ms >= 0)) throw invalid(`latency ${ms} is negative or not finite`);
}

/** Throws TRIBUTARY_SKETCH_INVALID unless the buckets are well formed (e.g. read from a record). */
export function checkBuckets(buckets: LatencyBuckets): void {
  checkAccuracy(buckets.relativeAccuracy);
  const { index, count, zeroCount } = buckets;
  if (index.length !== count.length)
    throw invalid(`${index.length} bucket indexes but ${count.length} bucket counts`);
  if (!Number.isSafeInteger(zeroCount) || zeroCount < 0)
    throw invalid(`zero count ${zeroCount} is not a count`);
  for (let i = 0; i < index.length; i++) {
    const key = index[i] as number;
    if (!Number.isSafeInteger(key) || (i > 0 && key <= (index[i - 1] as number)))
      throw invalid(`bucket index ${key} (position ${i}) is not an integer above the one before`);
    const n = count[i] as number;
    if (!Number.isSafeInteger(n) || n <= 0)
      throw invalid(`bucket count ${n} (position ${i}) is not positive`);
  }
}

function invalid(message: string): TributaryError {
  return new TributaryError('TRIBUTARY_SKETCH_INVALID', message);
}
