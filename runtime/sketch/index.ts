// Mergeable latency sketches: the class for reading and merging, the plain bucket form for records and stores.
export { LatencySketch } from './latency-sketch.ts';
export {
  DEFAULT_RELATIVE_ACCURACY,
  addToBuckets,
  addToBucketsInPlace,
  bucketIndex,
  bucketValue,
  checkBuckets,
  emptyBuckets,
} from './buckets.ts';
export type { LatencyBuckets } from './buckets.ts';
