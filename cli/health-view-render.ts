// The health view as text: a row per service with requests/s, 5xx ratio and p99 as sparklines, each
// with its current value and SLO (✗ when the current point is over it, and how many points were), then
// the alerts firing now. Pure: the same snapshot always gives the same text; colour only when asked.
import { textTable } from '../runtime/observability/terminal.ts';
import type { Paint } from './health-view-format.ts';
import {
  COLUMNS_ONLY,
  formatMs,
  formatRate,
  formatRatio,
  paintFor,
  utcMinute,
} from './health-view-format.ts';
import type { HealthAxis, HealthPoint, HealthSnapshot, ServiceHealth } from './health-view-data.ts';
import { sparkBars } from './health-view-sparkline.ts';
import { episodeLanes } from './health-view-lanes.ts';
import type { InjectedIncident } from '../loadgen/index.ts';

/** One metric of a service over the axis: its values, the SLO each point is held to, and breaches. */
export interface MetricSeries {
  values: Array<number | undefined>;
  slo: Array<number | undefined>;
  over: boolean[];
}

function series(
  points: ReadonlyArray<HealthPoint | undefined>,
  value: (p: HealthPoint) => number | undefined,
  slo: (p: HealthPoint) => number | undefined,
): MetricSeries {
  const values = points.map((p) => (p === undefined ? undefined : value(p)));
  const limits = points.map((p) => (p === undefined ? undefined : slo(p)));
  const over = values.map((v, i) => v !== undefined && limits[i] !== undefined && v > (limits[i] ?? 0));
  return { values, slo: limits, over };
}

export interface ServiceSeries {
  rate: MetricSeries;
  errors: MetricSeries;
  p99: MetricSeries;
}

export function serviceSeries(service: ServiceHealth, axis: HealthAxis): ServiceSeries {
  const seconds = axis.stepMinutes * 60;
  const none = (): undefined => undefined;
  return {
    rate: series(service.points, (p) => p.requests / seconds, none),
    errors: series(
      service.points,
      (p) => (p.requests > 0 ? p.errors5xx / p.requests : undefined),
      (p) => (p.availabilitySlo === undefined ? undefined : 1 - p.availabilitySlo),
    ),
    p99: series(
      service.points,
      (p) => p.p99Ms,
      (p) => p.latencySloMs,
    ),
  };
}

const lastIndex = (values: ReadonlyArray<number | undefined>): number =>
  values.findLastIndex((v) => v !== undefined);

/** [sparkline, current value (✗ when over its SLO), SLO and how many points were over it]. */
export function metricCells(metric: MetricSeries, format: (v: number) => string, paint: Paint): string[] {
  const latestSlo = metric.slo[lastIndex(metric.slo)];
  const bars = sparkBars(metric.values, latestSlo ?? 0).map((bar, i) =>
    metric.over[i] ? paint(bar, 'bad') : bar,
  );
  const now = lastIndex(metric.values);
  const current = metric.values[now];
  const nowText = current === undefined ? '-' : format(current);
  const nowCell = metric.over[now] === true ? paint(`${nowText}✗`, 'bad') : nowText;
  const overCount = metric.over.filter(Boolean).length;
  const sloText = latestSlo === undefined ? '' : `≤${format(latestSlo)}`;
  const sloCell = overCount === 0 ? sloText : `${sloText} ${paint(`${overCount}✗`, 'bad')}`;
  return [bars.join(''), nowCell, sloCell];
}

export function serviceTable(snapshot: HealthSnapshot, paint: Paint, colour: boolean): string {
  const head = ['service', 'requests/s', 'now', '5xx ratio', 'now', 'SLO', 'p99 ms', 'now', 'SLO'];
  const table = textTable({ head, ...COLUMNS_ONLY }, colour);
  for (const service of snapshot.services) {
    const { rate, errors, p99 } = serviceSeries(service, snapshot.axis);
    const [rateBars = '', rateNow = ''] = metricCells(rate, formatRate, paint);
    table.push([
      service.service,
      rateBars,
      rateNow,
      ...metricCells(errors, formatRatio, paint),
      ...metricCells(p99, formatMs, paint),
    ]);
  }
  return table.toString();
}

/** The axis in words: its span in UTC, minutes per point, and the latest window the stats hold. */
export function axisLine(snapshot: HealthSnapshot): string {
  const { fromMs, stepMinutes, points } = snapshot.axis;
  const toMs = fromMs + points * stepMinutes * 60_000;
  const per = stepMinutes === 1 ? 'a minute per point' : `${stepMinutes} minutes per point`;
  return `${utcMinute(fromMs)}-${utcMinute(toMs)} UTC, ${per}; latest window ${utcMinute(snapshot.latestWindowMs)} UTC`;
}

export function firingLines(snapshot: HealthSnapshot, paint: Paint): string[] {
  const firing = snapshot.episodes.filter((e) => e.firingAt !== undefined && e.resolvedAt === undefined);
  if (firing.length === 0) return ['alerts firing now: none'];
  return [
    `alerts firing now: ${firing.length}`,
    ...firing.map((e) =>
      paint(
        `  ${e.service} ${e.rule} (${e.kind}) since ${utcMinute(e.firingAt ?? 0)} UTC, ${e.alertId}`,
        'warn',
      ),
    ),
  ];
}

export const LEGEND =
  'SLO: 5xx ratio over 1 - availability SLO, p99 over the latency SLO; ✗ now over it, N✗ points over it';

export interface ViewOptions {
  colour: boolean;
  /** The demo's injected incidents, drawn beside the alert episodes; undefined on a live view. */
  incidents?: readonly InjectedIncident[] | undefined;
}

export function renderHealthView(snapshot: HealthSnapshot, options: ViewOptions): string {
  const { colour, incidents } = options;
  const paint = paintFor(colour);
  const lanes = episodeLanes(snapshot.axis, snapshot.episodes, incidents, paint, colour);
  return [
    axisLine(snapshot),
    serviceTable(snapshot, paint, colour),
    paint(LEGEND, 'dim'),
    ...(lanes === '' ? [] : [lanes]),
    ...firingLines(snapshot, paint),
  ].join('\n');
}
