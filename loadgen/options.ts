// What a load-generator run is asked to do: its spec with defaults (zod), the parser for the compact
// CLI form of `--bad`, and where a run's event time lies (`eventSpanMs`, `startEndingAt`).
import { z } from 'zod';
import { BAD_CLASSES } from './bad-events.ts';
import type { BadClass } from './bad-events.ts';
import { incidentSchema } from './incidents.ts';

const fraction = z.number().min(0).max(1);

export const generatorOptionsSchema = z
  .object({
    seed: z.number().int().min(0).max(0xffffffff).default(1).describe('same seed, same fleet and events'),
    rate: z.number().positive().max(10_000_000).default(10_000).describe('events per second of wall clock'),
    timeScale: z
      .number()
      .min(1)
      .max(100_000)
      .default(1)
      .describe('event time per wall-clock time: 60 = a minute of event time per wall second'),
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

/** The part of the options that places a run in event time; the time scale defaults to 1. */
export type EventTimeShape = Pick<GeneratorOptions, 'count' | 'rate'> & { timeScale?: number };

/** How much event time the run's planned events span, in ms (late events reach back a further 10 min). */
export function eventSpanMs(gen: EventTimeShape): number {
  return (gen.count / gen.rate) * 1000 * (gen.timeScale ?? 1);
}

/**
 * The start time that makes the run's event time end at `endMs` (epoch ms). Ingest refuses events more
 * than `maxFutureMs` (5 min) ahead of the wall clock or `maxPastMs` (7 days) behind it. A compressed run
 * started at "now" would be minutes ahead within seconds; one that ends when its wall-clock run ends
 * (`endMs` = now + the run's wall-clock duration) stays at or behind the wall clock throughout, and at
 * most its event span (plus 10 min for late events) behind it. With a time scale of 1 this is now.
 */
export function startEndingAt(endMs: number, gen: EventTimeShape): number {
  return Math.round(endMs - eventSpanMs(gen));
}
