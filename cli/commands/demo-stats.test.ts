import { describe, expect, it } from 'vitest';
import { INCIDENT_KINDS, generatorOptionsSchema } from '../../loadgen/index.ts';
import type { Truth } from '../../loadgen/index.ts';
import { demoGenerator, incidentsTable } from './demo-stats.ts';

describe('the demo load', () => {
  it('compresses 30 min of event time into the run, ending at the wall clock, with each incident kind', () => {
    const before = Date.now();
    const options = generatorOptionsSchema.parse(demoGenerator(5000, 60, 30));
    const after = Date.now();
    expect(options.count).toBe(300_000);
    expect(options.startMs).toBeGreaterThanOrEqual(before + 60_000 - 1_800_000);
    expect(options.startMs).toBeLessThanOrEqual(after + 60_000 - 1_800_000);
    expect(options.incidents.map((i) => i.kind)).toEqual([...INCIDENT_KINDS]);
    expect(Math.max(...options.incidents.map((i) => i.toS))).toBeLessThanOrEqual(1800);
  });

  it('lists the incidents with their event times and offsets from the start', () => {
    const truth = {
      event_time: { from_ms: Date.UTC(2026, 0, 1, 12), to_ms: 0 },
      incidents: [
        {
          service: 'cart',
          kind: 'traffic_drop',
          start_ms: Date.UTC(2026, 0, 1, 12, 18),
          end_ms: Date.UTC(2026, 0, 1, 12, 24, 30),
          traffic_share: 0.1,
        },
      ],
    } as unknown as Truth;
    const text = incidentsTable(truth);
    expect(text).toContain('traffic_drop');
    expect(text).toContain('12:18:00-12:24:30');
    expect(text).toContain('18m00s-24m30s');
    expect(text).toContain('traffic at 10%');
  });
});
