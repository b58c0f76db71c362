// A compressed run against ingest's own timestamp bounds: each event parsed by ingest's parser at the wall
// time it is produced (the run is paced at its rate), with ingest's default limits.
import { describe, expect, it } from 'vitest';
import { DEFAULT_PARSE_LIMITS, parseRequestEvent } from '../processors/ingest/parse-event.ts';
import { ValidationError } from '../runtime/index.ts';
import { startEndingAt } from './options.ts';
import { generate } from './test-support.ts';

const RATE = 10_000;
const COUNT = 50_000;
/** 5 s of wall clock carrying 10 minutes of event time. */
const TIME_SCALE = 120;

/** Valid events ingest refuses as out of bounds when event `i` reaches it at `wallStart + i / RATE`. */
function refusedAsOutOfBounds(startMs: number, wallStartMs: number): number {
  const { deliveries } = generate({
    seed: 8,
    count: COUNT,
    rate: RATE,
    timeScale: TIME_SCALE,
    startMs,
    late: 0.02,
  });
  let refused = 0;
  for (const d of deliveries) {
    if (d.kind !== 'valid') continue;
    const arrivalMs = wallStartMs + Math.floor((d.index * 1000) / RATE);
    try {
      parseRequestEvent(d.value, DEFAULT_PARSE_LIMITS, arrivalMs);
    } catch (error) {
      if (!(error instanceof ValidationError) || error.reason !== 'timestamp_out_of_bounds') throw error;
      refused++;
    }
  }
  return refused;
}

describe('compressed event time', () => {
  it('keeps every event within ingest bounds when the run ends at the wall clock', () => {
    const wallStartMs = Date.UTC(2026, 0, 1, 12);
    const startMs = startEndingAt(wallStartMs + (COUNT / RATE) * 1000, {
      count: COUNT,
      rate: RATE,
      timeScale: TIME_SCALE,
    });
    expect(startMs).toBe(wallStartMs + 5_000 - 600_000);
    expect(refusedAsOutOfBounds(startMs, wallStartMs)).toBe(0);
  });

  it('would run more than 5 minutes ahead of the wall clock if it started at now', () => {
    const wallStartMs = Date.UTC(2026, 0, 1, 12);
    // Event time passes now + 5 min after about 2.5 s of wall clock: about half the run is refused.
    const refused = refusedAsOutOfBounds(wallStartMs, wallStartMs);
    expect(refused).toBeGreaterThan(COUNT * 0.4);
  });
});
