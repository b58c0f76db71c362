import { describe, expect, it } from 'vitest';
import { buildFleet } from './fleet.ts';
import { parseDurationS } from './duration.ts';
import { defaultIncidents, incidentPerKind, parseIncidentSpec } from './incidents.ts';
import { eventSpanMs, generatorOptionsSchema, parseBadSpec, startEndingAt } from './options.ts';
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
      { kind: 'error_burst', service: 'payments', fromS: 20, toS: 60, errorRate: 0.25 },
      { kind: 'latency_spike', service: 'cart', fromS: 0, toS: 10, latencyX: 8 },
    ]);
    expect(() => parseIncidentSpec('service=x,from=20,to=10')).toThrow(/"to" must be after "from"/);
    expect(() => parseIncidentSpec('service=x,from=1,to=2,colour=red')).toThrow(/unknown key "colour"/);
  });

  it('parses incident kinds; without one, the kinds its parameters name, or the old pair', () => {
    expect(parseIncidentSpec('service=cart,from=5m,to=10m,kind=traffic_drop')).toEqual([
      { kind: 'traffic_drop', service: 'cart', fromS: 300, toS: 600, trafficShare: 0.1 },
    ]);
    expect(parseIncidentSpec('service=cart,from=1,to=2,kind=latency_spike,latency_x=3')).toEqual([
      { kind: 'latency_spike', service: 'cart', fromS: 1, toS: 2, latencyX: 3 },
    ]);
    expect(parseIncidentSpec('service=cart,from=1,to=2')).toEqual([
      { kind: 'error_burst', service: 'cart', fromS: 1, toS: 2, errorRate: 0.5 },
      { kind: 'latency_spike', service: 'cart', fromS: 1, toS: 2, latencyX: 5 },
    ]);
    expect(parseIncidentSpec('service=cart,from=1,to=2,error_rate=0.2,traffic_share=0.5')).toEqual([
      { kind: 'error_burst', service: 'cart', fromS: 1, toS: 2, errorRate: 0.2 },
      { kind: 'traffic_drop', service: 'cart', fromS: 1, toS: 2, trafficShare: 0.5 },
    ]);
    expect(() => parseIncidentSpec('service=x,from=1,to=2,kind=outage')).toThrow(/unknown kind "outage"/);
    expect(() => parseIncidentSpec('service=x,from=1,to=2,kind=traffic_drop,latency_x=3')).toThrow(
      /latency_x does not apply to kind traffic_drop/,
    );
    expect(() => parseIncidentSpec('service=x,from=1,to=2,kind=traffic_drop,traffic_share=2')).toThrow(
      /trafficShare/,
    );
  });

  it('places one incident of each kind on its own service, each with healthy minutes around it', () => {
    const fleet = buildFleet({ seed: 1 });
    const incidents = incidentPerKind(fleet, 1800);
    expect(incidents.map((i) => i.kind)).toEqual(['error_burst', 'latency_spike', 'traffic_drop']);
    expect(new Set(incidents.map((i) => i.service))).toEqual(
      new Set([fleet.services[1]?.name, fleet.services[2]?.name, fleet.services[3]?.name]),
    );
    for (const incident of incidents) {
      expect(incident.fromS).toBeGreaterThanOrEqual(0.3 * 1800);
      expect(incident.toS).toBeLessThanOrEqual(0.8 * 1800);
    }
  });

  it('compresses event time by the time scale, and can end the run at a given time', () => {
    const gen = { count: 300_000, rate: 10_000, timeScale: 60 };
    expect(eventSpanMs(gen)).toBe(30 * 60_000);
    expect(eventSpanMs({ count: 300_000, rate: 10_000 })).toBe(30_000);
    expect(startEndingAt(Date.UTC(2026, 0, 1, 12), gen)).toBe(Date.UTC(2026, 0, 1, 11, 30));
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
    expect(defaultIncidents(fleet, 60)).toEqual([
      { kind: 'error_burst', service: fleet.services[1]?.name, fromS: 20, toS: 40, errorRate: 0.5 },
      { kind: 'latency_spike', service: fleet.services[1]?.name, fromS: 20, toS: 40, latencyX: 5 },
    ]);
  });

  it('says plainly when the achieved rate fell more than 5% short', () => {
    expect(shortfallStatement(200_000, 143_210)).toBe(
      'this machine could not keep 200,000 events/s: achieved 143,210/s',
    );
    expect(shortfallStatement(10_000, 9_600)).toBeUndefined();
  });
});
