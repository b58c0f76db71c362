// Incidents a run injects: their spec (zod), the compact CLI form (`--incident`), the stock choices
// (the CLI default, one of each kind for the demo), and what an incident does to a service's requests.
import { z } from 'zod';
import { parseDurationS } from './duration.ts';
import type { Fleet } from './fleet.ts';

export const INCIDENT_KINDS = ['error_burst', 'latency_spike', 'traffic_drop'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

const span = {
  service: z.string().min(1).describe('service name (lower-case, as in the fleet)'),
  fromS: z.number().min(0).describe('start, in seconds of event time after the run start'),
  toS: z.number().min(0).describe('end (excluded), in seconds of event time after the run start'),
};

export const incidentSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('error_burst'),
    ...span,
    errorRate: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe('share of the service requests turned into 5xx'),
  }),
  z.object({
    kind: z.literal('latency_spike'),
    ...span,
    latencyX: z.number().min(1).max(1000).default(5).describe('latency multiplier'),
  }),
  z.object({
    kind: z.literal('traffic_drop'),
    ...span,
    trafficShare: z
      .number()
      .min(0)
      .max(1)
      .default(0.1)
      .describe("the service's requests fall to this share of their usual rate"),
  }),
]);
export type IncidentSpec = z.output<typeof incidentSchema>;

/** The CLI key of each kind's one parameter. */
const PARAMETER_KEY: Record<IncidentKind, string> = {
  error_burst: 'error_rate',
  latency_spike: 'latency_x',
  traffic_drop: 'traffic_share',
};
const PARAMETER_FIELD: Record<IncidentKind, string> = {
  error_burst: 'errorRate',
  latency_spike: 'latencyX',
  traffic_drop: 'trafficShare',
};
const KEYS = ['service', 'from', 'to', 'kind', ...Object.values(PARAMETER_KEY)];

/**
 * `service=payments,from=20s,to=40s,kind=traffic_drop,traffic_share=0.1`; several separated by `;`.
 * Without `kind`, the kinds whose parameter is given (`error_rate`, `latency_x`, `traffic_share`), one
 * incident each over the same span; with none of them, an error burst and a latency spike together (the
 * form before kinds existed). Unset parameters take the schema defaults.
 */
export function parseIncidentSpec(text: string): IncidentSpec[] {
  return text
    .split(';')
    .filter((part) => part.trim() !== '')
    .flatMap((part) => parseOneSpec(part));
}

function parseOneSpec(part: string): IncidentSpec[] {
  const fields = new Map<string, string>();
  for (const pair of part.split(',')) {
    const [key = '', value = ''] = pair.split('=').map((s) => s.trim());
    if (!KEYS.includes(key)) throw new Error(`--incident: unknown key "${key}" (${KEYS.join(', ')})`);
    fields.set(key, value);
  }
  const kinds = kindsOf(part, fields);
  const parseDuration = (key: string): number | undefined => {
    const value = fields.get(key);
    return value === undefined ? undefined : parseDurationS(value);
  };
  return kinds.map((kind) => {
    const raw: Record<string, unknown> = {
      kind,
      service: fields.get('service')?.toLowerCase(),
      fromS: parseDuration('from'),
      toS: parseDuration('to'),
    };
    const parameter = fields.get(PARAMETER_KEY[kind]);
    if (parameter !== undefined) raw[PARAMETER_FIELD[kind]] = Number(parameter);
    const parsed = incidentSchema.safeParse(raw);
    if (!parsed.success) {
      throw new Error(
        `--incident "${part}": ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
      );
    }
    if (parsed.data.toS <= parsed.data.fromS)
      throw new Error(`--incident "${part}": "to" must be after "from"`);
    return parsed.data;
  });
}

function kindsOf(part: string, fields: ReadonlyMap<string, string>): IncidentKind[] {
  const given = INCIDENT_KINDS.filter((k) => fields.has(PARAMETER_KEY[k]));
  const kind = fields.get('kind');
  if (kind === undefined) return given.length > 0 ? given : ['error_burst', 'latency_spike'];
  if (!(INCIDENT_KINDS as readonly string[]).includes(kind))
    throw new Error(`--incident "${part}": unknown kind "${kind}" (${INCIDENT_KINDS.join(', ')})`);
  const foreign = given.find((k) => k !== kind);
  if (foreign !== undefined)
    throw new Error(`--incident "${part}": ${PARAMETER_KEY[foreign]} does not apply to kind ${kind}`);
  return [kind as IncidentKind];
}

const roundMs = (s: number): number => Math.round(s * 1000) / 1000;

/**
 * The CLI's default: the second most popular service, during the middle third of the run's event time,
 * gets an error burst (half its requests 5xx) and a latency spike (x5) at once.
 */
export function defaultIncidents(fleet: Fleet, eventSpanS: number): IncidentSpec[] {
  const service = fleet.services[Math.min(1, fleet.services.length - 1)]?.name ?? '';
  const fromS = roundMs(eventSpanS / 3);
  const toS = roundMs((2 * eventSpanS) / 3);
  return [
    { kind: 'error_burst', service, fromS, toS, errorRate: 0.5 },
    { kind: 'latency_spike', service, fromS, toS, latencyX: 5 },
  ];
}

/**
 * One incident of each kind, each on its own service (the 2nd, 3rd and 4th most popular; the most
 * popular and the rest stay healthy), staggered over the run's event time so each has healthy minutes
 * before it (a baseline) and after it (to resolve): 30-50%, 45-65% and 50-80% of the span. The drop lasts
 * longer: TrafficDrop needs two whole minutes below its threshold, and the half-dropped minutes either side
 * of a span not aligned to the minute are above it (a 2-minute drop fired or not with the run's start second).
 */
export function incidentPerKind(fleet: Fleet, eventSpanS: number): IncidentSpec[] {
  const serviceAt = (rank: number): string => fleet.services[rank % fleet.services.length]?.name ?? '';
  const at = (share: number): number => Math.round(eventSpanS * share);
  return [
    { kind: 'error_burst', service: serviceAt(1), fromS: at(0.3), toS: at(0.5), errorRate: 0.5 },
    { kind: 'latency_spike', service: serviceAt(2), fromS: at(0.45), toS: at(0.65), latencyX: 5 },
    { kind: 'traffic_drop', service: serviceAt(3), fromS: at(0.5), toS: at(0.8), trafficShare: 0.1 },
  ];
}

/** An incident placed in the run: its service's index in the fleet and its event-time span in epoch ms. */
export interface Incident {
  service: number;
  fromMs: number;
  toMs: number;
  spec: IncidentSpec;
}

/** What the incidents active for one (service, event time) do to a request. */
export interface IncidentEffect {
  /** Chance that the request is turned into a 5xx. */
  errorRate: number;
  latencyX: number;
  /** Chance that a request drawn for the service is kept (the others are drawn again for another service). */
  trafficShare: number;
}

export const NO_EFFECT: IncidentEffect = Object.freeze({ errorRate: 0, latencyX: 1, trafficShare: 1 });

export function placeIncidents(specs: readonly IncidentSpec[], fleet: Fleet, startMs: number): Incident[] {
  return specs.map((spec) => {
    const service = fleet.services.findIndex((s) => s.name === spec.service);
    if (service < 0) {
      throw new Error(
        `incident on unknown service "${spec.service}"; services: ${fleet.services.map((s) => s.name).join(', ')}`,
      );
    }
    return { service, fromMs: startMs + spec.fromS * 1000, toMs: startMs + spec.toS * 1000, spec };
  });
}

/** Overlapping incidents combine: error chances as independent causes, multipliers and shares multiply. */
export function incidentEffect(incidents: readonly Incident[], service: number, ts: number): IncidentEffect {
  let effect = NO_EFFECT;
  for (const { service: on, fromMs, toMs, spec } of incidents) {
    if (on !== service || ts < fromMs || ts >= toMs) continue;
    if (effect === NO_EFFECT) effect = { ...NO_EFFECT };
    if (spec.kind === 'error_burst') effect.errorRate = 1 - (1 - effect.errorRate) * (1 - spec.errorRate);
    else if (spec.kind === 'latency_spike') effect.latencyX *= spec.latencyX;
    else effect.trafficShare *= spec.trafficShare;
  }
  return effect;
}
