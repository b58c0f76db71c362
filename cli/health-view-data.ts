// What the health view shows, read from ClickHouse through any SelectRows (the query endpoint, the
// embedded data directory or a server, as `tributary query` reads): per service and point (one or more
// minutes) of request_stats_1m, requests, 5xx, p99 from the merged latency sketches and the latest SLOs;
// and the run's alert episodes from `alerts`. Everything is scoped to one topic prefix (`_topic`), so
// runs with other prefixes in the same tables (earlier demos) never mix in.
import {
  ALERTS_TABLE,
  STATS_TABLE,
  STATS_TOPIC,
  alertEdgesIn,
  episodesOf,
  statsTableExists,
} from '../loadgen/index.ts';
import type { Episode, SelectRows } from '../loadgen/index.ts';

const MINUTE_MS = 60_000;

export interface HealthPoint {
  requests: number;
  errors5xx: number;
  /** p99 latency of the point's merged sketches, ms; undefined when no latency was recorded. */
  p99Ms: number | undefined;
  /** The point's latest SLOs, as enrich joined them (undefined on a reference miss). */
  latencySloMs: number | undefined;
  availabilitySlo: number | undefined;
}

export interface ServiceHealth {
  service: string;
  /** One entry per axis point; undefined where no window of the service has closed. */
  points: Array<HealthPoint | undefined>;
}

export interface HealthAxis {
  /** Start of the first point, epoch ms (a minute boundary). */
  fromMs: number;
  stepMinutes: number;
  points: number;
}

export interface HealthSnapshot {
  axis: HealthAxis;
  /** The latest window the prefix's stats hold, epoch ms. */
  latestWindowMs: number;
  services: ServiceHealth[];
  /** Every alert episode of the prefix (firing now: no resolvedAt). */
  episodes: Episode[];
}

export type HealthRead =
  | { state: 'ok'; snapshot: HealthSnapshot }
  | { state: 'no-table' }
  /** No stats under this prefix; `otherTopics` are stats topics that do have rows (latest first). */
  | { state: 'empty'; statsTopic: string; otherTopics: string[] };

export interface HealthQuery {
  prefix: string;
  points: number;
  stepMinutes: number;
  /** The last minute the view shows (epoch ms); default the latest window the stats hold. */
  lastMinuteMs?: number;
}

export const sqlString = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const optional = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));

/** The axis whose last point ends with the minute `lastMinuteMs`. */
export function healthAxis(lastMinuteMs: number, points: number, stepMinutes: number): HealthAxis {
  const last = Math.floor(lastMinuteMs / MINUTE_MS) * MINUTE_MS;
  return { fromMs: last - (points * stepMinutes - 1) * MINUTE_MS, stepMinutes, points };
}

async function latestWindow(select: SelectRows, statsTopic: string): Promise<number | undefined> {
  const [[latest = 0, rows = 0] = []] = await select(
    `SELECT toUnixTimestamp64Milli(max(window_start)), count() FROM ${STATS_TABLE} WHERE _topic = ${sqlString(statsTopic)}`,
  );
  return Number(rows) > 0 ? Number(latest) : undefined;
}

async function otherStatsTopics(select: SelectRows): Promise<string[]> {
  const rows = await select(
    `SELECT _topic FROM ${STATS_TABLE} GROUP BY _topic ORDER BY max(window_start) DESC LIMIT 5`,
  );
  return rows.map((r) => String(r[0]));
}

async function servicePoints(
  select: SelectRows,
  statsTopic: string,
  axis: HealthAxis,
): Promise<ServiceHealth[]> {
  const stepMs = axis.stepMinutes * MINUTE_MS;
  const toMs = axis.fromMs + axis.points * stepMs;
  const rows = await select(
    `SELECT service, intDiv(toUnixTimestamp64Milli(window_start) - ${axis.fromMs}, ${stepMs}) AS point,
       sum(requests), sum(status_5xx),
       latencySketchQuantile(0.99, sumMap(latency_sketch), sum(sketch_zero_count), any(sketch_relative_accuracy)),
       argMax(latency_slo_ms, window_start), argMax(availability_slo, window_start)
     FROM ${STATS_TABLE}
     WHERE _topic = ${sqlString(statsTopic)}
       AND window_start >= fromUnixTimestamp64Milli(toInt64(${axis.fromMs}), 'UTC')
       AND window_start < fromUnixTimestamp64Milli(toInt64(${toMs}), 'UTC')
     GROUP BY service, point ORDER BY service, point`,
  );
  const byService = new Map<string, ServiceHealth>();
  for (const [service, point, requests, errors, p99, latencySlo, availabilitySlo] of rows) {
    const name = String(service);
    const health = byService.get(name) ?? {
      service: name,
      points: new Array<HealthPoint | undefined>(axis.points).fill(undefined),
    };
    const p99Ms = optional(p99);
    health.points[Number(point)] = {
      requests: Number(requests),
      errors5xx: Number(errors),
      p99Ms: p99Ms !== undefined && Number.isFinite(p99Ms) ? p99Ms : undefined,
      latencySloMs: optional(latencySlo),
      availabilitySlo: optional(availabilitySlo),
    };
    byService.set(name, health);
  }
  return [...byService.values()];
}

async function episodesIn(select: SelectRows, prefix: string): Promise<Episode[]> {
  const [[exists = 0] = []] = await select(`EXISTS TABLE ${ALERTS_TABLE}`);
  return Number(exists) === 1 ? episodesOf(await alertEdgesIn(select, prefix)) : [];
}

/** Reads one frame of the view, or says why there is nothing to show. */
export async function readHealth(select: SelectRows, query: HealthQuery): Promise<HealthRead> {
  if (!(await statsTableExists(select))) return { state: 'no-table' };
  const statsTopic = `${query.prefix}${STATS_TOPIC}`;
  const latestWindowMs = await latestWindow(select, statsTopic);
  if (latestWindowMs === undefined)
    return { state: 'empty', statsTopic, otherTopics: await otherStatsTopics(select) };
  const axis = healthAxis(query.lastMinuteMs ?? latestWindowMs, query.points, query.stepMinutes);
  const services = await servicePoints(select, statsTopic, axis);
  const episodes = await episodesIn(select, query.prefix);
  return { state: 'ok', snapshot: { axis, latestWindowMs, services, episodes } };
}
