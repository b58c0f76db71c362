// A service's latency over a window of minutes, from the rows' sketch buckets merged with the runtime's
// LatencySketch (the StatsMinute mapping: DDSketch's logarithmic buckets, within the relative accuracy).
import { LatencySketch } from '../../runtime/index.ts';
import { MINUTE_MS } from './service-minutes.ts';
import type { ServiceMinutes } from './service-minutes.ts';

/** The q-quantile in ms over `minutes` minutes ending with `minute`; undefined under `minCount` values. */
export function quantileOfBuckets(
  state: ServiceMinutes,
  minute: number,
  minutes: number,
  q: number,
  minCount: number,
): number | undefined {
  let merged: LatencySketch | undefined;
  for (let i = 0; i < minutes; i++) {
    const buckets = state.minutes[String(minute - i * MINUTE_MS)]?.sketch;
    if (buckets === undefined || buckets === null) continue;
    const sketch = LatencySketch.fromBuckets(buckets);
    if (merged === undefined) merged = sketch;
    else merged.merge(sketch);
  }
  if (merged === undefined || merged.count === 0 || merged.count < minCount) return undefined;
  return merged.quantile(q);
}
