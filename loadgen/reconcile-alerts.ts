// Alert episodes against the incidents a run injected (issue 13's ground truth): every incident gives
// exactly one episode of its kind's rule, FIRING within `for` + 1 minutes of its start and RESOLVED within
// `keep_firing_for` + 1 minutes of its end; no other episode anywhere (false positives); and the edges
// ClickHouse holds are exactly the ones the receivers got, by idempotency key `<alert_id>:<state>`.
import type { IncidentKind } from './incidents.ts';
import type { InjectedIncident } from './incident-truth.ts';
import type { SelectRows } from './reconcile-clickhouse.ts';
import type { ReconcileCheck } from './reconcile-topics.ts';

const MINUTE = 60_000;

/** One alert edge as the `alerts` table holds it. */
export interface AlertEdge {
  alert_id: string;
  state: 'FIRING' | 'RESOLVED';
  rule: string;
  kind: string;
  service: string;
  at: number;
  /** The episode's first bad minute (epoch ms); absent: unknown. */
  episode_start?: number;
}

/** A rule's hysteresis, in minutes, from the rules file. */
export interface RuleTiming {
  forMinutes: number;
  keepFiringForMinutes: number;
}

export interface Episode {
  alertId: string;
  rule: string;
  kind: string;
  service: string;
  firingAt?: number | undefined;
  resolvedAt?: number | undefined;
  startMs?: number | undefined;
  /** Edges per state: anything but one each is itself a finding. */
  firings: number;
  resolves: number;
}

export interface IncidentVerdict {
  incident: InjectedIncident;
  /** Episodes of the incident's own rule kind on its service during it. */
  episodes: Episode[];
  detectedMs?: number | undefined;
  resolvedMs?: number | undefined;
  problem?: string | undefined;
}

export interface AlertReconciliation {
  ok: boolean;
  checks: ReconcileCheck[];
  incidents: IncidentVerdict[];
  falsePositives: Episode[];
  /** Episodes that start in the run's last minute or later: every service went silent when the load stopped. */
  afterRunEnd: Episode[];
}

/** The rule kind that must catch each incident kind, and kinds that may fire beside it (not false positives). */
const CAUGHT_BY: Record<IncidentKind, { kind: string; alongside: string[] }> = {
  error_burst: { kind: 'error_ratio', alongside: ['slo_burn_rate'] },
  latency_spike: { kind: 'latency_quantile', alongside: [] },
  traffic_drop: { kind: 'traffic_drop', alongside: [] },
};

export function episodesOf(edges: readonly AlertEdge[]): Episode[] {
  const byId = new Map<string, Episode>();
  for (const edge of edges) {
    const { alert_id: alertId, rule, kind, service } = edge;
    const episode = byId.get(alertId) ?? {
      alertId,
      rule,
      kind,
      service,
      firings: 0,
      resolves: 0,
      startMs: edge.episode_start,
    };
    if (edge.state === 'FIRING') {
      episode.firings++;
      episode.firingAt = Math.min(episode.firingAt ?? edge.at, edge.at);
    } else {
      episode.resolves++;
      episode.resolvedAt = Math.min(episode.resolvedAt ?? edge.at, edge.at);
    }
    byId.set(alertId, episode);
  }
  return [...byId.values()];
}

/** The incident's span plus the longest time its alerts may take to resolve, by the episode's rule. */
function during(incident: InjectedIncident, episode: Episode, timing: RuleTiming): boolean {
  const firedAt = episode.firingAt ?? episode.resolvedAt ?? 0;
  const until = incident.endMs + (timing.keepFiringForMinutes + 1) * MINUTE;
  return episode.service === incident.service && firedAt > incident.startMs && firedAt <= until;
}

function verdictOf(incident: InjectedIncident, episodes: Episode[], timing: RuleTiming): IncidentVerdict {
  const verdict: IncidentVerdict = { incident, episodes };
  const [episode] = episodes;
  if (episodes.length !== 1 || episode === undefined)
    return { ...verdict, problem: `${episodes.length} episodes of ${CAUGHT_BY[incident.kind].kind}` };
  verdict.detectedMs = episode.firingAt === undefined ? undefined : episode.firingAt - incident.startMs;
  verdict.resolvedMs = episode.resolvedAt === undefined ? undefined : episode.resolvedAt - incident.endMs;
  const problems: string[] = [];
  if (episode.firings !== 1 || episode.resolves !== 1)
    problems.push(`${episode.firings} FIRING and ${episode.resolves} RESOLVED edges`);
  if (verdict.detectedMs === undefined || verdict.detectedMs > (timing.forMinutes + 1) * MINUTE)
    problems.push(`fired later than for + 1 = ${timing.forMinutes + 1} min after the start`);
  const resolvedMs = verdict.resolvedMs;
  if (resolvedMs === undefined || resolvedMs <= 0 || resolvedMs > (timing.keepFiringForMinutes + 1) * MINUTE)
    problems.push(
      `not resolved within keep_firing_for + 1 = ${timing.keepFiringForMinutes + 1} min of the end`,
    );
  return problems.length === 0 ? verdict : { ...verdict, problem: problems.join('; ') };
}

const NO_TIMING: RuleTiming = { forMinutes: 0, keepFiringForMinutes: 0 };

/**
 * `runEndMs`: event time after the run's last event. The load stopping is a real drop to zero traffic, so
 * an episode whose first bad minute is the run's last (partial) minute or later is the end of the load:
 * listed apart, not a false positive.
 */
export function reconcileAlerts(
  incidents: readonly InjectedIncident[],
  edges: readonly AlertEdge[],
  timing: ReadonlyMap<string, RuleTiming>,
  receivedKeys?: ReadonlySet<string>,
  runEndMs = Number.POSITIVE_INFINITY,
): AlertReconciliation {
  const episodes = episodesOf(edges);
  const explained = new Set<Episode>();
  const verdicts = incidents.map((incident) => {
    const { kind, alongside } = CAUGHT_BY[incident.kind];
    const timed = (e: Episode) => during(incident, e, timing.get(e.rule) ?? NO_TIMING);
    const own = episodes.filter((e) => e.kind === kind && timed(e));
    for (const e of episodes)
      if (own.includes(e) || (alongside.includes(e.kind) && timed(e))) explained.add(e);
    return verdictOf(incident, own, timing.get(own[0]?.rule ?? '') ?? NO_TIMING);
  });
  const lastMinute = Math.floor(runEndMs / MINUTE) * MINUTE;
  const afterEnd = (e: Episode) => e.startMs !== undefined && e.startMs >= lastMinute;
  const afterRunEnd = episodes.filter((e) => !explained.has(e) && afterEnd(e));
  const falsePositives = episodes.filter((e) => !explained.has(e) && !afterEnd(e));
  const keys = edges.map((e) => `${e.alert_id}:${e.state}`);
  const checks: ReconcileCheck[] = [
    check('incidents with one timely episode', incidents.length, verdicts.filter((v) => !v.problem).length),
    check('episodes no incident explains (false positives)', 0, falsePositives.length),
    check('alert edges in ClickHouse, each key once', keys.length, new Set(keys).size),
  ];
  if (receivedKeys !== undefined) {
    const held = new Set(keys);
    checks.push(
      check(
        'keys the receivers got that ClickHouse holds',
        keys.length,
        keys.filter((k) => receivedKeys.has(k)).length,
      ),
    );
    checks.push(
      check(
        'keys the receivers got beyond ClickHouse',
        0,
        [...receivedKeys].filter((k) => !held.has(k)).length,
      ),
    );
  }
  return { ok: checks.every((c) => c.ok), checks, incidents: verdicts, falsePositives, afterRunEnd };
}

function check(name: string, expected: number, actual: number): ReconcileCheck {
  return { check: name, expected, actual, ok: expected === actual };
}

export const ALERTS_TABLE = 'alerts';

/** The alert edges the sink took from `<topicPrefix>alerts`. */
export async function alertEdgesIn(select: SelectRows, topicPrefix: string): Promise<AlertEdge[]> {
  const rows = await select(
    `SELECT alert_id, toString(state), rule, kind, service, toUnixTimestamp64Milli(at),
       toUnixTimestamp64Milli(episode_start) FROM ${ALERTS_TABLE}
     WHERE _topic = '${topicPrefix}alerts' ORDER BY at, alert_id, state`,
  );
  return rows.map(([alertId, state, rule, kind, service, at, episodeStart]) => ({
    alert_id: String(alertId),
    state: state === 'RESOLVED' ? 'RESOLVED' : 'FIRING',
    rule: String(rule),
    kind: String(kind),
    service: String(service),
    at: Number(at),
    episode_start: Number(episodeStart),
  }));
}
