// The incidents a run injected, as its truth records them (snake_case, like the rest of truth.json), and
// `incidentsOf`, the one reader the alert reconciler and the demo use (it also reads older truths).
import type { Fleet } from './fleet.ts';
import type { Incident, IncidentKind } from './incidents.ts';
import { INCIDENT_KINDS } from './incidents.ts';
import type { Truth } from './truth.ts';

/** One injected incident in truth.json; exactly one of the three parameters, the one of its kind. */
export interface TruthIncident {
  service: string;
  kind: IncidentKind;
  /** Event time, epoch ms: the first affected ms and the first one after. */
  start_ms: number;
  end_ms: number;
  /** error_burst: share of the service's requests turned into 5xx. */
  error_rate?: number;
  /** latency_spike: latency multiplier. */
  latency_x?: number;
  /** traffic_drop: share of the service's usual requests still sent. */
  traffic_share?: number;
}

/** An injected incident as the reconcilers read it. */
export interface InjectedIncident {
  service: string;
  kind: IncidentKind;
  /** Event-time span [startMs, endMs), epoch ms. */
  startMs: number;
  endMs: number;
  /** The kind's parameter: 5xx share (error_burst), multiplier (latency_spike), kept share (traffic_drop). */
  magnitude: number;
}

export function describeIncidents(incidents: readonly Incident[], fleet: Fleet): TruthIncident[] {
  return incidents.map(({ service, fromMs, toMs, spec }) => {
    const base = { service: fleet.services[service]?.name ?? '', start_ms: fromMs, end_ms: toMs };
    if (spec.kind === 'error_burst') return { ...base, kind: spec.kind, error_rate: spec.errorRate };
    if (spec.kind === 'latency_spike') return { ...base, kind: spec.kind, latency_x: spec.latencyX };
    return { ...base, kind: spec.kind, traffic_share: spec.trafficShare };
  });
}

/** Truths written before incident kinds: `{ from_ms, to_ms, kind: 'error_rate' | 'latency', … }`. */
interface LegacyIncident {
  service: string;
  from_ms: number;
  to_ms: number;
  kind: 'error_rate' | 'latency';
  error_rate: number;
  latency_x: number;
}

/** Every incident the run injected, in the order the run was given them. */
export function incidentsOf(truth: Pick<Truth, 'incidents'>): InjectedIncident[] {
  return (truth.incidents as ReadonlyArray<TruthIncident | LegacyIncident>).map((incident) => {
    if (isLegacy(incident)) {
      const kind = incident.kind === 'error_rate' ? 'error_burst' : 'latency_spike';
      const magnitude = kind === 'error_burst' ? incident.error_rate : incident.latency_x;
      return { service: incident.service, kind, startMs: incident.from_ms, endMs: incident.to_ms, magnitude };
    }
    return {
      service: incident.service,
      kind: incident.kind,
      startMs: incident.start_ms,
      endMs: incident.end_ms,
      magnitude: incident.error_rate ?? incident.latency_x ?? incident.traffic_share ?? 0,
    };
  });
}

function isLegacy(incident: TruthIncident | LegacyIncident): incident is LegacyIncident {
  return !(INCIDENT_KINDS as readonly string[]).includes(incident.kind);
}
