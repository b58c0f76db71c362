// The aggregate's per-window accumulator for one (service, endpoint, region): plain JSON data (it lives in
// a windowed state store), updated per request (as a copy, or in place where the store allows it), and
// turned into a StatsMinute row when the window closes or a correction is due.
import { TributaryError, addToBucketsInPlace, emptyBuckets } from '../../runtime/index.ts';
import type { EnrichedRequest, SchemaRecords, StatsMinute } from '../../runtime/index.ts';

/** One open window's running totals, as the windows and corrections stores keep them (schemas/window-stats.avsc). */
export type WindowStats = SchemaRecords['WindowStats'];

/** The row's grouping key. */
export interface StatsGroup {
  service: string;
  endpoint: string;
  region: string;
}

/** A one-minute event-time window, epoch ms UTC: [start, end). */
export interface StatsWindow {
  start: number;
  end: number;
}

type StatusClass = 'status_1xx' | 'status_2xx' | 'status_3xx' | 'status_4xx' | 'status_5xx';

export function emptyWindowStats(relativeAccuracy?: number): WindowStats {
  return {
    requests: 0,
    status_1xx: 0,
    status_2xx: 0,
    status_3xx: 0,
    status_4xx: 0,
    status_5xx: 0,
    latency_sum_ms: 0,
    latency_min_ms: null,
    latency_max_ms: null,
    bytes_out: 0,
    sketch: emptyBuckets(relativeAccuracy),
    team: null,
    tier: null,
    latency_slo_ms: null,
    availability_slo: null,
  };
}

/** The schema's status classes: 2xx..5xx by range, anything outside 200-599 counted as 1xx. */
export function statusClass(status: number): StatusClass {
  if (status >= 200 && status <= 599) return `status_${Math.floor(status / 100)}xx` as StatusClass;
  return 'status_1xx';
}

/** `stats` with one more request, as a new object; `stats` itself is left unchanged (safe with any store). */
export function addRequest(stats: WindowStats, event: EnrichedRequest): WindowStats {
  const sketch = { ...stats.sketch, index: stats.sketch.index.slice(), count: stats.sketch.count.slice() };
  return addRequestInPlace({ ...stats, sketch }, event);
}

/**
 * Adds one request to `stats` itself and returns it: no copy per event (several times faster). For an
 * aborted batch to roll back, the store must hold a copy of the committed value before the first change:
 * the windowed store copies at a batch's first set(), so set the stats before adding to them:
 * `const s = store.get(k, start) ?? emptyWindowStats(); store.set(k, start, end, s); addRequestInPlace(s, event);`
 * (get, add in place, then set would copy the already-changed value, and a retried batch would count twice).
 */
export function addRequestInPlace(stats: WindowStats, event: EnrichedRequest): WindowStats {
  const latency = event.latency_ms;
  stats.requests++;
  stats[statusClass(event.status)]++;
  stats.latency_sum_ms += latency;
  stats.latency_min_ms = stats.latency_min_ms === null ? latency : Math.min(stats.latency_min_ms, latency);
  stats.latency_max_ms = stats.latency_max_ms === null ? latency : Math.max(stats.latency_max_ms, latency);
  stats.bytes_out += event.bytes_out;
  addToBucketsInPlace(stats.sketch, latency);
  stats.team = event.team;
  stats.tier = event.tier;
  stats.latency_slo_ms = event.latency_slo_ms;
  stats.availability_slo = event.availability_slo;
  return stats;
}

/** The stats.1m row for a window's stats: revision 0 as it closed, n >= 1 the deltas of late events. */
export function toStatsMinute(
  group: StatsGroup,
  window: StatsWindow,
  revision: number,
  serviceRows: number,
  stats: WindowStats,
): StatsMinute {
  if (stats.requests === 0 || stats.latency_min_ms === null || stats.latency_max_ms === null)
    throw new TributaryError('TRIBUTARY_STATS_EMPTY_WINDOW', 'a window with no requests has no stats row', {
      context: { ...group, window_start: window.start, revision },
    });
  return {
    ...group,
    window_start: window.start,
    window_end: window.end,
    revision,
    requests: stats.requests,
    status_1xx: stats.status_1xx,
    status_2xx: stats.status_2xx,
    status_3xx: stats.status_3xx,
    status_4xx: stats.status_4xx,
    status_5xx: stats.status_5xx,
    latency_count: stats.requests,
    latency_sum_ms: stats.latency_sum_ms,
    latency_min_ms: stats.latency_min_ms,
    latency_max_ms: stats.latency_max_ms,
    bytes_out: stats.bytes_out,
    sketch_relative_accuracy: stats.sketch.relativeAccuracy,
    sketch_zero_count: stats.sketch.zeroCount,
    sketch_bucket_index: stats.sketch.index.slice(),
    sketch_bucket_count: stats.sketch.count.slice(),
    service_rows: serviceRows,
    team: stats.team,
    tier: stats.tier,
    latency_slo_ms: stats.latency_slo_ms,
    availability_slo: stats.availability_slo,
  };
}
