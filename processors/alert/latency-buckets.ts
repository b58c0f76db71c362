// A latency quantile from the service's merged sketch buckets over a window of minutes, with the
// StatsMinute bucket mapping (schemas/stats-minute.avsc): gamma = (1+a)/(1-a), bucket i holds values
// in (gamma^(i-1), gamma^i] and reads as 2 * gamma^i / (gamma + 1), within a of each of them. The rank
// rule is DDSketch's (rank = q * (count - 1), the first bucket whose running count passes it).
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
  const merged = new Map<number, number>();
  let zero = 0;
  for (let i = 0; i < minutes; i++) {
    const totals = state.minutes[String(minute - i * MINUTE_MS)];
    zero += totals?.zeroCount ?? 0;
    for (const [index, count] of Object.entries(totals?.buckets ?? {}))
      merged.set(Number(index), (merged.get(Number(index)) ?? 0) + count);
  }
  const total = zero + [...merged.values()].reduce((sum, c) => sum + c, 0);
  if (total === 0 || total < minCount) return undefined;
  return valueAtRank(q * (total - 1), zero, merged, state.sketchAccuracy);
}

function valueAtRank(rank: number, zero: number, buckets: Map<number, number>, accuracy: number): number {
  if (rank < zero) return 0;
  const gamma = (1 + accuracy) / (1 - accuracy);
  let running = zero;
  const indexes = [...buckets.keys()].sort((a, b) => a - b);
  for (const index of indexes) {
    running += buckets.get(index) ?? 0;
    if (running > rank) return (2 * gamma ** index) / (gamma + 1);
  }
  const last = indexes[indexes.length - 1] ?? 0;
  return (2 * gamma ** last) / (gamma + 1);
}
