// What a load-generator run is asked to do: its spec with defaults (zod), and the parsers for the
// compact CLI forms of injections (`--bad`, `--incident`, durations).
import { z } from 'zod';
import { BAD_CLASSES } from './bad-events.ts';
import type { BadClass } from './bad-events.ts';
import type { Fleet } from './fleet.ts';

export const incidentSchema = z.object({
  service: z.string().min(1).describe('service name (lower-case, as in the fleet)'),
  fromS: z.number().min(0).describe('start, in seconds of event time after the run start'),
  toS: z.number().min(0).describe('end (excluded), in seconds of event time after the run start'),
  errorRate: z.number().min(0).max(1).default(0.5).describe('share of the service requests turned into 5xx'),
  latencyX: z.number().min(1).max(1000).default(5).describe('latency multiplier'),
});
export type IncidentSpec = z.infer<typeof incidentSchema>;

const fraction = z.number().min(0).max(1);

export const generatorOptionsSchema = z
  .object({
    seed: z.number().int().min(0).max(0xffffffff).default(1).describe('same seed, same fleet and events'),
    rate: z
      .number()
      .positive()
      .max(10_000_000)
      .default(10_000)
      .describe('events per second, wall clock and event time'),
    count: z.number().int().min(1).max(1_000_000_000).describe('events to generate (duplicates come on top)'),
    startMs: z.number().int().min(0).describe('event time of the first event, epoch ms'),
    services: z.number().int().min(1).max(500).default(12),
    customers: z.number().int().min(1).max(1_000_000).default(2000),
    regions: z.number().int().min(4).max(7).default(5),
    bad: z
      .partialRecord(z.enum(BAD_CLASSES), fraction)
      .default(spreadBad(0.02))
      .describe('share of events per bad class'),
    duplicates: fraction
      .default(0.01)
      .describe('share of valid events delivered a second time, shortly after'),
    late: fraction.default(0.005).describe('share of valid events 2-10 minutes behind the stream'),
    outOfOrder: fraction.default(0.02).describe('share of valid events 1-5 s behind the stream'),
    noise: fraction.default(0.02).describe('share of valid events with harmless noise ingest normalises'),
    isoTimestamps: fraction.default(0.1).describe('share of events with an ISO-8601 ts instead of epoch ms'),
    incidents: z.array(incidentSchema).default([]),
  })
  .refine((o) => totalBad(o.bad) + o.late + o.outOfOrder <= 1, {
    message: 'bad + late + out-of-order fractions add up to more than 1',
  });

export type GeneratorOptions = z.output<typeof generatorOptionsSchema>;
export type GeneratorInput = z.input<typeof generatorOptionsSchema>;

export function totalBad(bad: Partial<Record<BadClass, number>>): number {
  return Object.values(bad).reduce((sum, f) => sum + f, 0);
}

/** A total bad fraction spread evenly over every class. */
export function spreadBad(total: number): Partial<Record<BadClass, number>> {
  return Object.fromEntries(BAD_CLASSES.map((c) => [c, total / BAD_CLASSES.length]));
}

/** `0.02` (spread over the classes) or `malformed_json=0.01,oversized=0.002`. */
export function parseBadSpec(text: string): Partial<Record<BadClass, number>> {
  if (/^[\d.]+$/.test(text.trim())) return spreadBad(parseFraction(text, '--bad'));
  const out: Partial<Record<BadClass, number>> = {};
  for (const part of text.split(',')) {
    const [name = '', value = ''] = part.split('=').map((s) => s.trim());
    if (!(BAD_CLASSES as readonly string[]).includes(name)) {
      throw new Error(`--bad: unknown class "${name}"; classes: ${BAD_CLASSES.join(', ')}`);
    }
    out[name as BadClass] = parseFraction(value, `--bad ${name}`);
  }
  return out;
}

function parseFraction(text: string, what: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new Error(`${what}: expected a fraction between 0 and 1, got "${text}"`);
  }
  return value;
}

/** `90`, `90s`, `1500ms`, `2m`, `1h` → seconds. */
export function parseDurationS(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (match === null) throw new Error(`expected a duration like 90, 90s, 1500ms or 2m, got "${text}"`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return unit === 'ms' ? value / 1000 : unit === 'm' ? value * 60 : unit === 'h' ? value * 3600 : value;
}

/**
 * `service=payments,from=20s,to=40s,error_rate=0.5,latency_x=5`; several incidents separated by `;`.
 * Unset error_rate / latency_x take the schema defaults (0.5, 5).
 */
export function parseIncidentSpec(text: string): IncidentSpec[] {
  return text
    .split(';')
    .filter((part) => part.trim() !== '')
    .map((part) => {
      const raw: Record<string, unknown> = {};
      for (const pair of part.split(',')) {
        const [key = '', value = ''] = pair.split('=').map((s) => s.trim());
        if (key === 'service') raw['service'] = value.toLowerCase();
        else if (key === 'from') raw['fromS'] = parseDurationS(value);
        else if (key === 'to') raw['toS'] = parseDurationS(value);
        else if (key === 'error_rate') raw['errorRate'] = Number(value);
        else if (key === 'latency_x') raw['latencyX'] = Number(value);
        else throw new Error(`--incident: unknown key "${key}" (service, from, to, error_rate, latency_x)`);
      }
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

/** The default incident: the second most popular service, during the middle third of the run. */
export function defaultIncident(fleet: Fleet, durationS: number): IncidentSpec {
  const service = fleet.services[Math.min(1, fleet.services.length - 1)]?.name ?? '';
  return {
    service,
    fromS: Math.round((durationS / 3) * 1000) / 1000,
    toS: Math.round(((2 * durationS) / 3) * 1000) / 1000,
    errorRate: 0.5,
    latencyX: 5,
  };
}
