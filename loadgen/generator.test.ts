import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BAD_CLASSES } from './bad-events.ts';
import { buildFleet } from './fleet.ts';
import type { Delivery } from './generator.ts';
import { FIXED_START_MS, generate, readRaw } from './test-support.ts';

function digest(deliveries: readonly Delivery[]): string {
  const hash = createHash('sha256');
  for (const d of deliveries) hash.update(d.key).update('\u0000').update(d.value).update('\u0001');
  return hash.digest('hex');
}

describe('EventGenerator', () => {
  it('writes byte-identical deliveries for the same seed and start time', () => {
    const a = generate({ seed: 7, count: 20_000 });
    const b = generate({ seed: 7, count: 20_000 });
    expect(a.deliveries.length).toBe(b.deliveries.length);
    expect(digest(a.deliveries)).toBe(digest(b.deliveries));
  });

  it('writes different events for another seed, and different event ids for another start time', () => {
    const a = generate({ seed: 7, count: 5000 });
    const b = generate({ seed: 8, count: 5000 });
    expect(digest(a.deliveries)).not.toBe(digest(b.deliveries));
    expect(a.fleet.services.map((s) => s.name)).not.toEqual(b.fleet.services.map((s) => s.name));
    const later = generate({ seed: 7, count: 10, startMs: FIXED_START_MS + 1 });
    expect(later.deliveries[0]?.key).not.toBe(a.deliveries[0]?.key);
  });

  it('injects each bad class in about the asked share, each with the defect its reason names', () => {
    const { deliveries: two } = generate({
      seed: 3,
      count: 100_000,
      bad: { malformed_json: 0.01, oversized: 0.002 },
    });
    const { deliveries: spread } = generate({ seed: 3, count: 100_000 });
    const mismatches: string[] = [];
    [...two, ...spread].forEach((d, i) => {
      if (d.kind === 'valid' && i % 10 !== 0) return; // every bad record, a sample of the valid ones
      const read = readRaw(d.value);
      const expected = d.kind === 'bad' ? d.badClass : 'a valid event';
      const got = 'reason' in read ? read.reason : 'a valid event';
      if (got !== expected) mismatches.push(`${d.key}: expected ${expected}, read ${got}`);
    });
    expect(mismatches.slice(0, 5)).toEqual([]);

    const count = (list: readonly Delivery[], badClass: string): number =>
      list.filter((d) => d.kind === 'bad' && d.badClass === badClass).length;
    expect(count(two, 'malformed_json')).toBeGreaterThan(850);
    expect(count(two, 'malformed_json')).toBeLessThan(1150);
    expect(count(two, 'oversized')).toBeGreaterThan(140);
    expect(count(two, 'oversized')).toBeLessThan(260);
    expect(two.filter((d) => d.kind === 'bad').length).toBe(
      count(two, 'malformed_json') + count(two, 'oversized'),
    );
    // Default: 2% spread over the nine classes (222 each expected of 100,000).
    const spreadBad = spread.filter((d) => d.kind === 'bad').length;
    expect(spreadBad).toBeGreaterThan(1800);
    expect(spreadBad).toBeLessThan(2200);
    for (const badClass of BAD_CLASSES) {
      expect(count(spread, badClass), badClass).toBeGreaterThan(150);
      expect(count(spread, badClass), badClass).toBeLessThan(300);
    }
  });

  it('redelivers duplicates byte for byte shortly after the original', () => {
    const { deliveries } = generate({ seed: 5, count: 50_000, duplicates: 0.02 });
    const firstAt = new Map<string, number>();
    let duplicates = 0;
    deliveries.forEach((d, at) => {
      if (d.kind !== 'valid') return;
      if (d.copy === 0) {
        firstAt.set(d.key, at);
        return;
      }
      duplicates++;
      const first = firstAt.get(d.key);
      expect(first).toBeDefined();
      expect(deliveries[first ?? 0]?.value.equals(d.value)).toBe(true);
      expect(at - (first ?? 0)).toBeLessThan(10_000); // within about half a second at 10,000 events/s
    });
    expect(duplicates).toBeGreaterThan(800);
    expect(duplicates).toBeLessThan(1200);
  });

  it.each([1, 60])(
    'puts late events 2-10 minutes and out-of-order ones 1-5 s behind the stream (time scale %d)',
    (timeScale) => {
      const { deliveries, generator } = generate({
        seed: 9,
        count: 100_000,
        late: 0.01,
        outOfOrder: 0.05,
        timeScale,
      });
      // The event time the run spans: 10 s of wall clock at 10,000 events/s, compressed by the time scale.
      expect(generator.streamTimeMs(100_000) - FIXED_START_MS).toBe(10_000 * timeScale);
      let late = 0;
      let outOfOrder = 0;
      for (const d of deliveries) {
        if (d.kind !== 'valid' || d.copy === 1) continue;
        const index = Number(d.key.slice(d.key.lastIndexOf('-') + 1));
        const behind = generator.streamTimeMs(index) - d.event.ts;
        if (d.event.timing === 'late') {
          late++;
          expect(behind).toBeGreaterThanOrEqual(120_000 - 20);
          expect(behind).toBeLessThanOrEqual(600_000);
        } else if (d.event.timing === 'out_of_order') {
          outOfOrder++;
          expect(behind).toBeGreaterThanOrEqual(1000 - 20);
          expect(behind).toBeLessThanOrEqual(5000);
        } else {
          expect(behind).toBeLessThanOrEqual(0);
        }
      }
      expect(late).toBeGreaterThan(800);
      expect(late).toBeLessThan(1200);
      expect(outOfOrder).toBeGreaterThan(4500);
      expect(outOfOrder).toBeLessThan(5500);
    },
  );

  it('draws services and customers with a Zipf-like skew', () => {
    const { deliveries, fleet } = generate({ seed: 11, count: 100_000 });
    const services = new Map<number, number>();
    const customers = new Map<number, number>();
    for (const d of deliveries) {
      if (d.kind !== 'valid' || d.copy === 1) continue;
      services.set(d.event.service, (services.get(d.event.service) ?? 0) + 1);
      customers.set(d.event.customer, (customers.get(d.event.customer) ?? 0) + 1);
    }
    const serviceCounts = [...services.values()].sort((a, b) => b - a);
    const median = serviceCounts[Math.floor(serviceCounts.length / 2)] ?? 1;
    expect(serviceCounts.length).toBe(fleet.services.length);
    expect((serviceCounts[0] ?? 0) / median).toBeGreaterThan(4);
    const customerCounts = [...customers.values()].sort((a, b) => b - a);
    const total = customerCounts.reduce((sum, n) => sum + n, 0);
    const top10Percent = customerCounts.slice(0, fleet.customers.length / 10).reduce((sum, n) => sum + n, 0);
    expect(top10Percent / total).toBeGreaterThan(0.5);
  });

  it('applies an incident to its service between its times only', () => {
    const name = buildFleet({ seed: 2 }).services[0]?.name ?? '';
    const span = { service: name, fromS: 20, toS: 40 };
    const incidents = [
      { kind: 'error_burst' as const, ...span, errorRate: 0.5 },
      { kind: 'latency_spike' as const, ...span, latencyX: 5 },
    ];
    const { deliveries } = generate({ seed: 2, count: 60_000, rate: 1000, incidents });
    const events = deliveries.flatMap((d) =>
      d.kind === 'valid' && d.copy === 0 && d.event.service === 0 ? [d.event] : [],
    );
    const inWindow = (ts: number): boolean => ts >= FIXED_START_MS + 20_000 && ts < FIXED_START_MS + 40_000;
    const share5xx = (list: typeof events): number =>
      list.filter((e) => e.status >= 500).length / list.length;
    expect(share5xx(events.filter((e) => inWindow(e.ts)))).toBeGreaterThan(0.4);
    expect(share5xx(events.filter((e) => !inWindow(e.ts)))).toBeLessThan(0.05);
    const median = (list: typeof events): number => {
      const sorted = list.map((e) => e.latencyMs).sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)] ?? 0;
    };
    const ratio =
      median(events.filter((e) => inWindow(e.ts))) / median(events.filter((e) => !inWindow(e.ts)));
    expect(ratio).toBeGreaterThan(4);
    expect(ratio).toBeLessThan(6);
  });

  it('a traffic drop cuts its service to the given share of its usual rate, the run keeps its rate', () => {
    const fleet = buildFleet({ seed: 2 });
    const name = fleet.services[1]?.name ?? '';
    const incidents = [
      { kind: 'traffic_drop' as const, service: name, fromS: 20, toS: 40, trafficShare: 0.2 },
    ];
    const dropped = generate({ seed: 2, count: 60_000, rate: 1000, incidents });
    const healthy = generate({ seed: 2, count: 60_000, rate: 1000 });
    const inWindow = (ts: number): boolean => ts >= FIXED_START_MS + 20_000 && ts < FIXED_START_MS + 40_000;
    const perService = (deliveries: readonly Delivery[], within: boolean): number[] => {
      const counts = fleet.services.map(() => 0);
      for (const d of deliveries) {
        if (d.kind !== 'valid' || d.copy === 1 || inWindow(d.event.ts) !== within) continue;
        counts[d.event.service] = (counts[d.event.service] ?? 0) + 1;
      }
      return counts;
    };
    const during = perService(dropped.deliveries, true);
    const usual = perService(healthy.deliveries, true);
    const share = (during[1] ?? 0) / (usual[1] ?? 1);
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.25);
    // Everyone else takes up the slack (about 1 / (1 - p(1 - 0.2)) more each); outside the span, nothing changes.
    expect((during[0] ?? 0) / (usual[0] ?? 1)).toBeGreaterThan(1.05);
    const outside = perService(dropped.deliveries, false);
    const outsideUsual = perService(healthy.deliveries, false);
    expect(Math.abs((outside[1] ?? 0) / (outsideUsual[1] ?? 1) - 1)).toBeLessThan(0.1);
    expect(dropped.generator.emitted).toBe(60_000);
  });

  it('answers some GET requests 304 Not Modified, without a body, and no other method', () => {
    const { deliveries, fleet } = generate({ seed: 12, count: 50_000 });
    const valid = deliveries.flatMap((d) => (d.kind === 'valid' && d.copy === 0 ? [d.event] : []));
    const notModified = valid.filter((e) => e.status === 304);
    const gets = valid.filter((e) => fleet.endpoints[e.endpoint]?.method === 'GET');
    expect(notModified.length / gets.length).toBeGreaterThan(0.02);
    expect(notModified.length / gets.length).toBeLessThan(0.04);
    expect(notModified.every((e) => fleet.endpoints[e.endpoint]?.method === 'GET' && e.bytesOut === 0)).toBe(
      true,
    );
  });
});
