// The reference timeline of a run: first versions before the first event, changes at known times, a
// service never published; answered at a time as a temporal join must answer it.
import { describe, expect, it } from 'vitest';
import { buildFleet } from './fleet.ts';
import { ReferenceAtTime, referenceTimeline, timelineRecords } from './reference-timeline.ts';

const fleet = buildFleet({ seed: 3, services: 6, customers: 50 });
const START = Date.UTC(2026, 11, 1, 12, 0, 0);
const timeline = referenceTimeline(fleet, { startMs: START, count: 60_000, rate: 1000 });

describe('referenceTimeline', () => {
  it('plans an SLO change, a plan change and a deletion inside the run, and one unpublished service', () => {
    expect(timeline.valid_from_ms).toBeLessThan(START);
    expect(timeline.changes.map((c) => [c.change, c.at_ms - START])).toEqual([
      ['latency_slo_ms', 30_000],
      ['plan', 20_000],
      ['deleted', 40_000],
    ]);
    expect(timeline.unpublished_services).toEqual([fleet.services[5]?.name]);
    const records = timelineRecords(fleet, timeline);
    expect(records.services).toHaveLength(5 + 1);
    expect(records.customers).toHaveLength(50 + 2);
    expect(records.customers.at(-1)).toEqual({
      key: fleet.customers[1]?.id,
      value: null,
      timestamp: START + 40_000,
    });
  });

  it('answers each key as it stood at a time', () => {
    const at = new ReferenceAtTime(fleet, timeline);
    const [slo, plan] = timeline.changes;
    const service = fleet.services[0]?.name ?? '';
    expect(at.service(service, START + 29_999)?.latency_slo_ms).toBe(slo?.from);
    expect(at.service(service, START + 30_000)?.latency_slo_ms).toBe(slo?.to);
    expect(at.customer(fleet.customers[0]?.id ?? '', START + 19_999)?.plan).toBe(plan?.from);
    expect(at.customer(fleet.customers[0]?.id ?? '', START + 20_000)?.plan).toBe(plan?.to);
    expect(at.customer(fleet.customers[1]?.id ?? '', START + 39_999)).toBeDefined();
    expect(at.customer(fleet.customers[1]?.id ?? '', START + 40_000)).toBeUndefined();
    expect(at.service(fleet.services[5]?.name ?? '', START)).toBeUndefined();
    expect(at.service(service, timeline.valid_from_ms - 1)).toBeUndefined();
  });
});
