// `tributary top`: the per-service health view, live. Every few seconds a frame from ClickHouse (the
// running sink's query endpoint, or the server of TRIBUTARY_CLICKHOUSE_URL): redrawn in place on a
// terminal, one frame per interval when piped, one frame with --once. With the sink stopped it shows the
// stored data once and then waits for the endpoint, so it never holds the data directory the sink needs.
import { z } from 'zod';
import { clickhouseConfigShape } from '../../connectors/clickhouse/config.ts';
import { QueryFailed, runningEndpoint, selectRows } from '../../connectors/clickhouse/query/read-results.ts';
import type { ResultsSettings } from '../../connectors/clickhouse/query/read-results.ts';
import { TributaryError, loadConfig, runtimeConfigShape } from '../../runtime/index.ts';
import { colourOn, liveOn } from '../../runtime/observability/terminal.ts';
import type { SelectRows } from '../../loadgen/index.ts';
import type { Command } from '../command.ts';
import { UsageError, numberOption, parseArgs } from '../command.ts';
import { healthFrame, viewWidth } from '../health-view.ts';
import type { HealthFrame } from '../health-view.ts';
import { untilStopped } from '../stop-signal.ts';

/** The store's keys as `tributary query` reads them, and TRIBUTARY_TOPIC_PREFIX as --prefix's default. */
const topConfig = z.object({ ...clickhouseConfigShape, topicPrefix: runtimeConfigShape.topicPrefix });
const START_HINT = 'start the pipeline (./tributary start, or ./tributary run clickhouse-sink)';

interface TopOptions {
  prefix: string;
  minutes: number;
  intervalS: number;
  once: boolean;
}

function topOptions(args: string[], defaultPrefix: string): TopOptions {
  const { positional, options } = parseArgs(args);
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional.join(' ')}"`);
  const prefix = runtimeConfigShape.topicPrefix.safeParse(options.get('prefix') ?? defaultPrefix);
  if (!prefix.success)
    throw new UsageError('--prefix needs the topic prefix of the run: letters, digits, ".", "_" or "-"');
  const minutes = numberOption(options, 'minutes', 30);
  const intervalS = numberOption(options, 'interval', 5);
  if (minutes < 1 || intervalS < 1) throw new UsageError('--minutes and --interval must be at least 1');
  return { prefix: prefix.data, minutes, intervalS, once: options.has('once') };
}

/**
 * What failed under a failed fetch (fetch rejects with a TypeError whose cause is the network error):
 * its system code (ECONNREFUSED, ENOTFOUND, ...) or, without one, its own words.
 */
function networkFailure(error: unknown): string | undefined {
  const cause = error instanceof TypeError ? error.cause : undefined;
  if (!(cause instanceof Error)) return undefined;
  return 'code' in cause && typeof cause.code === 'string' ? cause.code : cause.message;
}

/**
 * Why a frame could not be read, and what to start: by the error's type and code, never its text.
 * Undefined for anything else (a bug is thrown, not dressed as an outage).
 */
function unreadable(error: unknown, settings: ResultsSettings): string | undefined {
  if (error instanceof TributaryError && error.code === 'TRIBUTARY_CLICKHOUSE_DATA_DIR_LOCKED')
    return error.message;
  if (error instanceof QueryFailed) return `the store refused the health query: ${error.message}`;
  const failure = networkFailure(error);
  if (failure === undefined) return undefined;
  if (settings.clickhouseUrl !== undefined)
    return `cannot reach the ClickHouse server at ${settings.clickhouseUrl} (${failure}): start it, or unset TRIBUTARY_CLICKHOUSE_URL to read the embedded store`;
  return `cannot reach the ClickHouse sink's query endpoint (${failure}): ${START_HINT}`;
}

/** Reads frames; a stopped sink's data directory is read once, then only its endpoint is waited for. */
class FrameSource {
  /** The frame read from the data directory while the sink was stopped, shown while waiting for it. */
  private stored: HealthFrame | undefined;

  constructor(
    private readonly settings: ResultsSettings,
    private readonly options: TopOptions,
  ) {}

  private readonly select: SelectRows = async (sql) => (await selectRows(sql, this.settings)).data;

  async next(width: number, colour: boolean): Promise<HealthFrame> {
    const { clickhouseUrl, clickhouseDataDir, queryPort } = this.settings;
    const direct =
      clickhouseUrl === undefined && (await runningEndpoint(clickhouseDataDir, queryPort)) === undefined;
    const stopped = `the ClickHouse sink is not running (no query endpoint for ${clickhouseDataDir})`;
    if (direct && this.stored !== undefined)
      return { ok: this.stored.ok, text: `${this.stored.text}\n${stopped}: waiting for it; ${START_HINT}` };
    try {
      const frame = await healthFrame(this.select, { ...this.options, width, colour });
      if (!direct) return frame;
      this.stored = frame;
      return {
        ok: frame.ok,
        text: `${frame.text}\n${stopped}: the stored data above; ${START_HINT} for a live view`,
      };
    } catch (error) {
      const why = unreadable(error, this.settings);
      if (why === undefined) throw error;
      return { ok: false, text: why };
    }
  }
}

const header = (options: TopOptions, live: boolean): string =>
  `tributary top${options.prefix === '' ? '' : ` --prefix ${options.prefix}`}, ${new Date().toISOString().slice(11, 19)} UTC` +
  (options.once ? '' : `, every ${options.intervalS} s${live ? ' (Ctrl-C stops)' : ''}`);

export const topCommand: Command = {
  name: 'top',
  usage: 'top [--prefix P] [--minutes 30] [--interval 5] [--once]',
  summary:
    'per-service health from ClickHouse, live: requests/s, 5xx ratio, p99 against the SLO, alerts firing (--prefix defaults to TRIBUTARY_TOPIC_PREFIX)',
  async run(args) {
    const settings = loadConfig('top', topConfig);
    const options = topOptions(args, settings.topicPrefix);
    const out = process.stdout;
    const source = new FrameSource(settings, options);
    const live = liveOn(out) && !options.once;
    let lastOk = false;
    await untilStopped(options.once ? 0 : options.intervalS * 1000, async () => {
      const frame = await source.next(viewWidth(out), colourOn(out));
      lastOk = frame.ok;
      const text = `${header(options, live)}\n${frame.text}\n`;
      // Home and clear, then the frame: redrawn in place. Piped, each frame follows the last.
      out.write(live ? `\x1b[H\x1b[2J${text}` : options.once ? text : `${text}\n`);
    });
    // Stopped by Ctrl-C or SIGTERM is a clean exit; one frame with nothing to show is not.
    return options.once && !lastOk ? 1 : 0;
  },
};
