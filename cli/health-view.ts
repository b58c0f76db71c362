// The per-service health view, as `tributary top` shows it live and `tributary demo` prints it at the
// end: read from ClickHouse through any SelectRows, laid out for the terminal's width, or a sentence
// saying why there is nothing to show yet (no table, no stats under this prefix).
import { colourOn } from '../runtime/observability/terminal.ts';
import { STATS_TOPIC, incidentsOf, runPrefix } from '../loadgen/index.ts';
import type { InjectedIncident, SelectRows, Truth } from '../loadgen/index.ts';
import { readHealth } from './health-view-data.ts';
import { renderHealthView } from './health-view-render.ts';
import { sparkLayout } from './health-view-sparkline.ts';

/** Piped output has no width: wide enough for half an hour at a minute per point. */
export const PIPED_WIDTH = 160;

export interface HealthViewOptions {
  /** Topic prefix of the run (`_topic` of its rows), '' for an unprefixed pipeline. */
  prefix: string;
  minutes: number;
  /** Terminal columns. */
  width: number;
  colour: boolean;
  /** The last minute shown (epoch ms); default the latest window the stats hold. */
  lastMinuteMs?: number;
  /** The demo's injected incidents, drawn beside the alert episodes. */
  incidents?: readonly InjectedIncident[];
}

export interface HealthFrame {
  /** False when there is nothing to show (no table, no stats under the prefix). */
  ok: boolean;
  text: string;
}

/** Columns of `stream` when it is a terminal, else COLUMNS, else PIPED_WIDTH. */
export function viewWidth(stream: { columns?: number; isTTY?: boolean } = process.stdout): number {
  if (stream.isTTY === true && stream.columns !== undefined && stream.columns > 0) return stream.columns;
  const fromEnv = Number(process.env.COLUMNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : PIPED_WIDTH;
}

export async function healthFrame(select: SelectRows, options: HealthViewOptions): Promise<HealthFrame> {
  const { points, stepMinutes } = sparkLayout(options.width, options.minutes);
  const read = await readHealth(select, {
    prefix: options.prefix,
    points,
    stepMinutes,
    ...(options.lastMinuteMs === undefined ? {} : { lastMinuteMs: options.lastMinuteMs }),
  });
  if (read.state === 'no-table')
    return {
      ok: false,
      text: 'no request_stats_1m table yet: the ClickHouse sink has not written stats; start the pipeline (./tributary start)',
    };
  if (read.state === 'empty') {
    const others = read.otherTopics.map((t) => `--prefix ${t.slice(0, -STATS_TOPIC.length) || "''"}`);
    const hint = others.length === 0 ? 'is the aggregate running?' : `stats exist for: ${others.join(', ')}`;
    return { ok: false, text: `no stats from ${read.statsTopic} yet (${hint})` };
  }
  return {
    ok: true,
    text: renderHealthView(read.snapshot, { colour: options.colour, incidents: options.incidents }),
  };
}

/**
 * The demo's closing view: the run's whole event time, its injected incidents beside the alert episodes.
 * A failure to read it is reported in the text: the view never decides the demo's outcome.
 */
export async function runHealthView(select: SelectRows, truth: Truth): Promise<string> {
  // Every minute window the run's events fall in, first to last (to_ms is just after the last event).
  const fromMs = truth.event_time.from_ms;
  const lastMs = Math.max(fromMs, truth.event_time.to_ms - 1);
  const minutes = Math.floor(lastMs / 60_000) - Math.floor(fromMs / 60_000) + 1;
  try {
    const frame = await healthFrame(select, {
      prefix: runPrefix(truth),
      minutes,
      // The run's last minute, not the latest window: windows that never closed show as blanks.
      lastMinuteMs: lastMs,
      width: viewWidth(),
      colour: colourOn(),
      incidents: incidentsOf(truth),
    });
    return `per-service health of the run, from ClickHouse\n${frame.text}`;
  } catch (error) {
    return `per-service health: not available (${error instanceof Error ? error.message : String(error)})`;
  }
}
