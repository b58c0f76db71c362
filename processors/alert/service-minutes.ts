// A service's recent minutes as the alert stage keeps them (Avro, in a keyed store): per minute the
// requests, 5xx and merged latency buckets of all its (endpoint, region) rows, revision 0 and the
// corrections folded in alike, since they are deltas. A minute is complete, and can be judged, once
// all of its `service_rows` revision-0 rows are in.
import { LatencySketch } from '../../runtime/index.ts';
import type {
  LatencyBuckets,
  StatsMinute,
  StoredMinuteTotals,
  StoredServiceMinutes,
} from '../../runtime/index.ts';

export const MINUTE_MS = 60_000;

/**
 * One minute of a service, and its recent minutes, as the services store keeps them
 * (schemas/stored-service-alert.avsc): a minute's sketch is null once no rule reads it.
 */
export type MinuteTotals = StoredMinuteTotals;
export type ServiceMinutes = StoredServiceMinutes;

export function emptyServiceMinutes(firstMinute: number): ServiceMinutes {
  return { minutes: {}, rowsIn: {}, judgedThrough: null, firstMinute };
}

/** Adds a row's counts to its minute; true if the row completes a minute not judged yet. */
export function foldRow(state: ServiceMinutes, row: StatsMinute): boolean {
  const key = String(row.window_start);
  const held = state.minutes[key];
  const totals = held ?? {
    requests: 0,
    errors5xx: 0,
    sketch: mergeRowSketch(undefined, row),
    latencySloMs: null,
    availabilitySlo: null,
  };
  // A sketch already dropped (null) stays dropped: no rule reads that minute's latency any more.
  if (held !== undefined && totals.sketch !== null) totals.sketch = mergeRowSketch(totals.sketch, row);
  state.minutes[key] = totals;
  totals.requests += row.requests;
  totals.errors5xx += row.status_5xx;
  totals.latencySloMs = row.latency_slo_ms ?? totals.latencySloMs;
  totals.availabilitySlo = row.availability_slo ?? totals.availabilitySlo;
  state.firstMinute = Math.min(state.firstMinute, row.window_start);
  if (state.judgedThrough !== null && row.window_start <= state.judgedThrough) return false;
  if (row.revision !== 0) return false;
  const rows = (state.rowsIn[key] ?? 0) + 1;
  state.rowsIn[key] = rows;
  return rows >= row.service_rows;
}

/** A row's sketch merged into a minute's (new buckets; the stored ones are left as they were). */
function mergeRowSketch(into: LatencyBuckets | undefined, row: StatsMinute): LatencyBuckets {
  const sketch = LatencySketch.fromBuckets({
    relativeAccuracy: row.sketch_relative_accuracy,
    zeroCount: row.sketch_zero_count,
    index: row.sketch_bucket_index,
    count: row.sketch_bucket_count,
  });
  if (into !== undefined) sketch.merge(LatencySketch.fromBuckets(into));
  return sketch.toBuckets();
}

/** The minutes to judge now that `completed` is complete: every unjudged one up to it, oldest first. */
export function minutesToJudge(state: ServiceMinutes, completed: number, maxGapMinutes: number): number[] {
  const from = state.judgedThrough === null ? completed : state.judgedThrough + MINUTE_MS;
  const start = Math.max(from, completed - maxGapMinutes * MINUTE_MS);
  const out: number[] = [];
  for (let minute = start; minute <= completed; minute += MINUTE_MS) out.push(minute);
  return out;
}

/** Marks minutes up to `minute` judged, and drops what no rule reads any more. */
export function markJudged(
  state: ServiceMinutes,
  minute: number,
  keep: { minutes: number; sketchMinutes: number },
): void {
  state.judgedThrough = minute;
  for (const key of Object.keys(state.rowsIn)) if (Number(key) <= minute) delete state.rowsIn[key];
  for (const [key, totals] of Object.entries(state.minutes)) {
    const age = (minute - Number(key)) / MINUTE_MS;
    if (age >= keep.minutes) delete state.minutes[key];
    else if (age >= keep.sketchMinutes) totals.sketch = null;
  }
}

/** Sums of requests and 5xx over the `minutes` minutes ending with `minute` (missing minutes: 0). */
export function windowTotals(
  state: ServiceMinutes,
  minute: number,
  minutes: number,
): { requests: number; errors5xx: number } {
  let requests = 0;
  let errors5xx = 0;
  for (let i = 0; i < minutes; i++) {
    const totals = state.minutes[String(minute - i * MINUTE_MS)];
    requests += totals?.requests ?? 0;
    errors5xx += totals?.errors5xx ?? 0;
  }
  return { requests, errors5xx };
}
