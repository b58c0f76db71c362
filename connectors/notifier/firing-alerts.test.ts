import { describe, expect, it } from 'vitest';
import { FiringAlerts, sourceOf } from './firing-alerts.ts';
import { alertEvent } from './testing/alert-events.ts';

const P0 = sourceOf('alerts', 0);
const P1 = sourceOf('alerts', 1);
const ids = (firing: FiringAlerts): string[] => firing.events().map((e) => e.alert_id);

describe('the alerts an Alertmanager has as firing, from edges delivered at least once', () => {
  it('a FIRING makes one firing alert however often it comes; its RESOLVED ends it', () => {
    const firing = new FiringAlerts();
    firing.apply(alertEvent(0, 'FIRING'), P0);
    firing.apply(alertEvent(0, 'FIRING'), P0);
    expect(ids(firing)).toEqual([alertEvent(0, 'FIRING').alert_id]);
    firing.apply(alertEvent(0, 'RESOLVED'), P0);
    expect(firing.size).toBe(0);
    firing.apply(alertEvent(0, 'RESOLVED'), P0);
    expect(firing.size).toBe(0);
  });

  it('a FIRING again after its RESOLVED (a replay, a duplicate) does not bring the episode back', () => {
    const firing = new FiringAlerts();
    for (const state of ['FIRING', 'RESOLVED', 'FIRING'] as const) firing.apply(alertEvent(0, state), P0);
    expect(firing.size).toBe(0);
    // A RESOLVED seen before its FIRING (edges of two partitions replayed) ends it as well.
    firing.apply(alertEvent(1, 'RESOLVED'), P0);
    firing.apply(alertEvent(1, 'FIRING'), P0);
    expect(firing.size).toBe(0);
  });

  it('keeps the other episodes firing, oldest FIRING first, and the latest copy of each', () => {
    const firing = new FiringAlerts();
    firing.apply(alertEvent(0, 'FIRING', 'checkout'), P0);
    firing.apply(alertEvent(1, 'FIRING', 'search'), P1);
    firing.apply(alertEvent(2, 'FIRING', 'payments'), P0);
    firing.apply(alertEvent(1, 'RESOLVED', 'search'), P1);
    const again = { ...alertEvent(0, 'FIRING', 'checkout'), summary: 'again' };
    firing.apply(again, P0);
    expect(ids(firing)).toEqual([again.alert_id, alertEvent(2, 'FIRING', 'payments').alert_id]);
    expect(firing.events()[0]?.summary).toBe('again');
    expect(firing.has(alertEvent(1, 'FIRING', 'search').alert_id)).toBe(false);
  });

  it('drops the alerts of partitions no longer held', () => {
    const firing = new FiringAlerts();
    firing.apply(alertEvent(0, 'FIRING', 'checkout'), P0);
    firing.apply(alertEvent(1, 'FIRING', 'search'), P1);
    firing.retainSources(new Set([P1]));
    expect(ids(firing)).toEqual([alertEvent(1, 'FIRING', 'search').alert_id]);
    firing.retainSources(new Set());
    expect(firing.size).toBe(0);
  });

  it('remembers resolved ids up to its limit, oldest forgotten first', () => {
    const firing = new FiringAlerts(1);
    firing.apply(alertEvent(0, 'RESOLVED'), P0);
    firing.apply(alertEvent(1, 'RESOLVED'), P0);
    firing.apply(alertEvent(1, 'FIRING'), P0);
    expect(firing.size).toBe(0);
    firing.apply(alertEvent(0, 'FIRING'), P0);
    expect(ids(firing)).toEqual([alertEvent(0, 'FIRING').alert_id]);
  });
});
