import { describe, expect, it } from 'vitest';
import { buildFleet } from './fleet.ts';
import {
  defaultIncident,
  generatorOptionsSchema,
  parseBadSpec,
  parseDurationS,
  parseIncidentSpec,
} from './options.ts';
import { shortfallStatement } from './progress.ts';

describe('load generator options', () => {
  it('parses durations in ms, s, m and h', () => {
    expect([
      parseDurationS('90'),
      parseDurationS('20s'),
      parseDurationS('1500ms'),
      parseDurationS('2m'),
      parseDurationS('1h'),
    ]).toEqual([90, 20, 1.5, 120, 3600]);
    expect(() => parseDurationS('soon')).toThrow(/expected a duration/);
  });

  it('parses incidents, with defaults for what is left out', () => {
    expect(
      parseIncidentSpec(
        'service=Payments,from=20s,to=1m,error_rate=0.25;service=cart,from=0,to=10,latency_x=8',
      ),
    ).toEqual([
      { service: 'payments', fromS: 20, toS: 60, errorRate: 0.25, latencyX: 5 },
      { service: 'cart', fromS: 0, toS: 10, errorRate: 0.5, latencyX: 8 },
    ]);
    expect(() => parseIncidentSpec('service=x,from=20,to=10')).toThrow(/"to" must be after "from"/);
    expect(() => parseIncidentSpec('service=x,from=1,to=2,colour=red')).toThrow(/unknown key "colour"/);
  });

  it('spreads a bad fraction over the classes or takes it per class', () => {
    const spread = parseBadSpec('0.09');
    expect(Object.keys(spread)).toHaveLength(9);
    expect(spread.oversized).toBeCloseTo(0.01);
    expect(parseBadSpec('malformed_json=0.01, oversized=0.002')).toEqual({
      malformed_json: 0.01,
      oversized: 0.002,
    });
    expect(() => parseBadSpec('bogus=0.1')).toThrow(/unknown class "bogus"/);
  });

  it('rejects fractions that cannot add up', () => {
    const result = generatorOptionsSchema.safeParse({
      count: 1,
      startMs: 0,
      bad: { oversized: 0.6 },
      late: 0.5,
    });
    expect(result.success).toBe(false);
  });

  it('puts the default incident on the second most popular service in the middle third', () => {
    const fleet = buildFleet({ seed: 1 });
    expect(defaultIncident(fleet, 60)).toEqual({
      service: fleet.services[1]?.name,
      fromS: 20,
      toS: 40,
      errorRate: 0.5,
      latencyX: 5,
    });
  });

  it('says plainly when the achieved rate fell more than 5% short', () => {
    expect(shortfallStatement(200_000, 143_210)).toBe(
      'this machine could not keep 200,000 events/s: achieved 143,210/s',
    );
    expect(shortfallStatement(10_000, 9_600)).toBeUndefined();
  });
});
