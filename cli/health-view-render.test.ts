import { describe, expect, it } from 'vitest';
import type { Episode, InjectedIncident } from '../loadgen/index.ts';
import type { HealthPoint, HealthSnapshot, ServiceHealth } from './health-view-data.ts';
import { healthAxis } from './health-view-data.ts';
import { paintFor } from './health-view-format.ts';
import { laneMarks } from './health-view-lanes.ts';
import { metricCells, renderHealthView, serviceSeries } from './health-view-render.ts';
import { sparkLayout } from './health-view-sparkline.ts';

const T0 = Date.UTC(2026, 11, 2, 3, 0, 0);
const MINUTE = 60_000;
const RED = '\x1b[31m';

const point = (
  requests: number,
  errors5xx: number,
  p99Ms: number,
  slo = 250,
  availability = 0.99,
): HealthPoint => ({
  requests,
  errors5xx,
  p99Ms,
  latencySloMs: slo,
  availabilitySlo: availability,
});

// checkout: 5xx over its 1% budget at minutes 2 and 3 (now), p99 over 250 ms at minute 1 only.
const checkout: ServiceHealth = {
  service: 'checkout',
  points: [point(600, 0, 100), point(1200, 6, 300), point(2400, 48, 200), point(1200, 24, 150)],
};
const search: ServiceHealth = {
  service: 'search',
  points: [undefined, point(60, 0, 40, 400), undefined, point(120, 0, 80, 400)],
};

function snapshot(episodes: Episode[] = []): HealthSnapshot {
  return {
    axis: healthAxis(T0 + 3 * MINUTE, 4, 1),
    latestWindowMs: T0 + 3 * MINUTE,
    services: [checkout, search],
    episodes,
  };
}

const episode = (alertId: string, service: string, from: number, to?: number): Episode => ({
  alertId,
  rule: 'HighErrorRatio',
  kind: 'error_ratio',
  service,
  firingAt: T0 + from * MINUTE,
  resolvedAt: to === undefined ? undefined : T0 + to * MINUTE,
  firings: 1,
  resolves: to === undefined ? 0 : 1,
});

const rowOf = (text: string, service: string): string =>
  text.split('\n').find((line) => line.startsWith(`${service} `)) ?? '';

describe('the health view', () => {
  it('gives requests/s, 5xx ratio and p99 per point with the current value and SLO', () => {
    const text = renderHealthView(snapshot(), { colour: false });
    expect(text.split('\n')[0]).toBe('03:00-03:04 UTC, a minute per point; latest window 03:03 UTC');
    // requests/s 10, 20, 40, 20; 5xx 0, 0.5%, 2%, 2% against 1%; p99 100, 300, 200, 150 against 250
    // (scaled to 300: bars 2.3, 7, 4.7, 3.5 of 7).
    expect(rowOf(text, 'checkout').split(/ +/)).toEqual([
      'checkout',
      '▃▅█▅',
      '20',
      '▁▃██',
      '2.00%✗',
      '≤1.00%',
      '2✗',
      '▃█▆▅',
      '150',
      '≤250',
      '1✗',
    ]);
    // Missing points are blanks, so the sparklines are read by their columns.
    const head = text.split('\n')[1] ?? '';
    const row = rowOf(text, 'search');
    const column = (title: string): string => row.slice(head.indexOf(title), head.indexOf(title) + 4);
    expect([column('requests/s'), column('5xx ratio'), column('p99 ms')]).toEqual([' ▅ █', ' ▁ ▁', ' ▂ ▂']);
    expect(row.slice(head.indexOf('p99 ms')).split(/ +/)).toEqual(['', '▂', '▂', '80', '≤400', '']);
  });

  it('marks breaches in red only with colour, and writes no escape code without it', () => {
    expect(renderHealthView(snapshot([episode('a', 'checkout', 1)]), { colour: false })).not.toContain(
      '\x1b[',
    );
    const errors = serviceSeries(checkout, snapshot().axis).errors;
    const [bars = '', now = ''] = metricCells(errors, (v) => v.toFixed(3), paintFor(true));
    expect(bars).toBe(`▁▃${RED}█\x1b[0m${RED}█\x1b[0m`);
    expect(now).toBe(`${RED}0.020✗\x1b[0m`);
  });

  it('holds each point to its own SLO: a raised SLO clears a later point', () => {
    const raised: ServiceHealth = { service: 'x', points: [point(60, 0, 300, 250), point(60, 0, 300, 400)] };
    const p99 = serviceSeries(raised, healthAxis(T0 + MINUTE, 2, 1)).p99;
    expect(p99.over).toEqual([true, false]);
  });

  it('divides by the seconds a point covers when a point is several minutes', () => {
    const wide = serviceSeries(checkout, healthAxis(T0 + 3 * MINUTE, 4, 2)).rate;
    expect(wide.values).toEqual([5, 10, 20, 10]);
  });

  it('fits the width it was laid out for, whatever the numbers', () => {
    const names = Array.from({ length: 12 }, (_, i) => `service-${String(i).padStart(6, '0')}`);
    for (const width of [120, 160, 200]) {
      const { points, stepMinutes } = sparkLayout(width, 30);
      const axis = healthAxis(T0 + 29 * MINUTE, points, stepMinutes);
      const worst = point(9_999_999, 9_999_999, 99_999, 99_999, 0.999);
      const services = names.map((service) => ({
        service,
        points: Array.from({ length: points }, () => worst),
      }));
      const text = renderHealthView(
        { axis, latestWindowMs: axis.fromMs, services, episodes: [] },
        { colour: false },
      );
      for (const line of text.split('\n').slice(1, 14))
        expect([...line.trimEnd()].length).toBeLessThanOrEqual(width);
    }
  });

  it('lists the alerts firing now, and none when every episode resolved', () => {
    expect(renderHealthView(snapshot([episode('a', 'checkout', 1, 2)]), { colour: false })).toContain(
      'alerts firing now: none',
    );
    const text = renderHealthView(snapshot([episode('a', 'checkout', 1, 2), episode('b', 'search', 3)]), {
      colour: false,
    });
    expect(text).toContain('alerts firing now: 1\n  search HighErrorRatio (error_ratio) since 03:03 UTC, b');
  });
});

describe('the incident and episode lanes', () => {
  const axis = healthAxis(T0 + 7 * MINUTE, 8, 1);

  it('marks every point a span overlaps, an open episode to the end', () => {
    expect(laneMarks(axis, [{ fromMs: T0 + 2 * MINUTE, toMs: T0 + 4 * MINUTE }], '█')).toBe('··██····');
    expect(laneMarks(axis, [{ fromMs: T0 + 2.5 * MINUTE, toMs: T0 + 4.5 * MINUTE }], '█')).toBe('··███···');
    expect(laneMarks(axis, [{ fromMs: T0 + 6 * MINUTE, toMs: Infinity }], '█')).toBe('······██');
    expect(
      laneMarks(healthAxis(T0 + 7 * MINUTE, 4, 2), [{ fromMs: T0 + 3 * MINUTE, toMs: T0 + 4 * MINUTE }], '█'),
    ).toBe('·█··');
  });

  it('puts the injected incidents beside the episodes that caught them', () => {
    const incidents: InjectedIncident[] = [
      {
        service: 'checkout',
        kind: 'error_burst',
        startMs: T0 + MINUTE,
        endMs: T0 + 3 * MINUTE,
        magnitude: 0.5,
      },
    ];
    const view = { ...snapshot([episode('a', 'checkout', 2, 4)]), axis };
    const lines = renderHealthView(view, { colour: false, incidents }).split('\n');
    const at = lines.findIndex((l) => l.startsWith('injected incidents'));
    expect(lines[at + 1]?.split(/ +/)).toEqual([
      'checkout',
      'incident',
      '·▓▓·····',
      'error_burst',
      '50.0%',
      '5xx',
      '03:01-03:03',
    ]);
    expect(lines[at + 2]?.trim().split(/ +/)).toEqual([
      'alerts',
      '··██····',
      'HighErrorRatio',
      '03:02-03:04',
    ]);
  });

  it('draws no lanes when nothing fired on the axis', () => {
    const text = renderHealthView(snapshot([episode('old', 'checkout', -30, -20)]), { colour: false });
    expect(text).not.toContain('alert episodes');
  });
});
