// Incidents and alert episodes on the health view's time axis: per service, a lane marking the points
// an injected incident covers (the demo knows them from its ground truth) and one marking the points an
// alert episode was firing, so detection and recovery read off side by side.
import { textTable } from '../runtime/observability/terminal.ts';
import type { Episode, InjectedIncident } from '../loadgen/index.ts';
import type { HealthAxis } from './health-view-data.ts';
import type { Paint } from './health-view-format.ts';
import { COLUMNS_ONLY, formatRatio, utcMinute } from './health-view-format.ts';

export const INCIDENT_MARK = '▓';
export const FIRING_MARK = '█';
export const QUIET_MARK = '·';

interface Span {
  fromMs: number;
  /** Exclusive; Infinity while an episode is still firing. */
  toMs: number;
}

/** One mark per axis point: `mark` where any span overlaps the point, `·` elsewhere. */
export function laneMarks(axis: HealthAxis, spans: readonly Span[], mark: string): string {
  const stepMs = axis.stepMinutes * 60_000;
  let lane = '';
  for (let i = 0; i < axis.points; i++) {
    const start = axis.fromMs + i * stepMs;
    const hit = spans.some((s) => s.fromMs < start + stepMs && s.toMs > start);
    lane += hit ? mark : QUIET_MARK;
  }
  return lane;
}

const episodeSpan = (e: Episode): Span => ({
  fromMs: e.firingAt ?? Infinity,
  toMs: e.resolvedAt ?? Infinity,
});
const incidentSpan = (i: InjectedIncident): Span => ({ fromMs: i.startMs, toMs: i.endMs });

function incidentText(i: InjectedIncident): string {
  const what =
    i.kind === 'error_burst'
      ? `${formatRatio(i.magnitude)} 5xx`
      : i.kind === 'latency_spike'
        ? `latency x${i.magnitude}`
        : `traffic at ${formatRatio(i.magnitude)}`;
  return `${i.kind} ${what} ${utcMinute(i.startMs)}-${utcMinute(i.endMs)}`;
}

const episodeText = (e: Episode): string =>
  `${e.rule} ${utcMinute(e.firingAt ?? 0)}-${e.resolvedAt === undefined ? 'firing' : utcMinute(e.resolvedAt)}`;

function overlapsAxis(axis: HealthAxis, span: Span): boolean {
  const toMs = axis.fromMs + axis.points * axis.stepMinutes * 60_000;
  return span.fromMs < toMs && span.toMs > axis.fromMs;
}

/**
 * The lanes of every service with an incident or an episode on the axis; `incidents` undefined (live
 * view, no ground truth) gives the alert lanes alone. Empty when nothing happened on the axis.
 */
export function episodeLanes(
  axis: HealthAxis,
  episodes: readonly Episode[],
  incidents: readonly InjectedIncident[] | undefined,
  paint: Paint,
  colour: boolean,
): string {
  const shown = episodes.filter((e) => e.firingAt !== undefined && overlapsAxis(axis, episodeSpan(e)));
  const injected = (incidents ?? []).filter((i) => overlapsAxis(axis, incidentSpan(i)));
  const services = [...new Set([...injected, ...shown].map((x) => x.service))].sort();
  if (services.length === 0) return '';
  const table = textTable({ ...COLUMNS_ONLY }, colour);
  for (const service of services) {
    const mine = shown.filter((e) => e.service === service);
    const ours = injected.filter((i) => i.service === service);
    if (incidents !== undefined)
      table.push([
        service,
        'incident',
        laneMarks(axis, ours.map(incidentSpan), INCIDENT_MARK),
        ours.map(incidentText).join(', ') || '-',
      ]);
    table.push([
      incidents === undefined ? service : '',
      'alerts',
      paint(laneMarks(axis, mine.map(episodeSpan), FIRING_MARK), 'warn'),
      mine.map(episodeText).join(', ') || 'none',
    ]);
  }
  const what =
    incidents === undefined
      ? `alert episodes (${FIRING_MARK} firing)`
      : `injected incidents (${INCIDENT_MARK}) and alert episodes (${FIRING_MARK} firing)`;
  return `${what}, on the same axis\n${table.toString()}`;
}
