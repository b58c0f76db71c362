// aggregate: requests.enriched → stats.1m, one row per (service, endpoint, region) and one-minute
// event-time window. A window is emitted once, when the watermark passes its end (event-time progress
// minus allowedLatenessMs): all of one service's rows of that window together, with service_rows. An event
// whose window has closed is late: under `correct` its window gets a correction row (revision n >= 1, the
// late events' deltas), under `dead-letter` it goes to requests.dlq with reason late_event.
//
// CORRECTIONS: the late events of window W that arrive while the watermark is in [k, k+1) minutes are
// one correction, emitted when the watermark reaches minute k+1, as revision n = (k+1) − W's end minute.
// So revision numbers depend on event time only (a replay gives the same rows), need no counter in state,
// and grow with each correction (n is how many minutes after W's end the correction closed).
import { z } from 'zod';
import { ValidationError, avro, defineProcessor, windowedStore } from '../../runtime/index.ts';
import type { EnrichedRequest, WindowEntry } from '../../runtime/index.ts';
import { addRequest, emptyWindowStats, toStatsMinute } from './window-stats.ts';
import type { StatsGroup, WindowStats } from './window-stats.ts';

/** Tumbling window length. */
export const WINDOW_MS = 60_000;
export const LATE_EVENT_REASON = 'late_event';

export const aggregate = defineProcessor({
  name: 'aggregate',
  description:
    'one-minute event-time health per (service, endpoint, region), late events corrected or dead-lettered',
  input: { topic: 'requests.enriched', value: avro('EnrichedRequest') },
  outputs: { stats: { topic: 'stats.1m', value: avro('StatsMinute') } },
  deadLetter: { topic: 'requests.dlq' },
  outcomes: { late_event: ['corrected'] },
  config: {
    allowedLatenessMs: z
      .number()
      .int()
      .min(0)
      .default(60_000)
      .describe('how long after a window ends (in event time) its events still count as on time, in ms'),
    latePolicy: z
      .enum(['correct', 'dead-letter'])
      .default('correct')
      .describe(
        'late events (window closed): correction rows (revision >= 1) or requests.dlq with reason late_event',
      ),
  },
  stores: { windows: windowedStore('WindowStats'), corrections: windowedStore('WindowStats') },
  eventTime: {
    input: (record) => record.value.ts,
    allowedLatenessMs: (config) => config.allowedLatenessMs,
  },
  handle(record, ctx) {
    const event = record.value;
    const start = windowStartOf(event.ts);
    const key = groupKey(event);
    const watermarkMs = ctx.watermarkMs;
    if (start + WINDOW_MS > watermarkMs) {
      const windows = ctx.store('windows');
      windows.set(
        key,
        start,
        start + WINDOW_MS,
        addRequest(windows.get(key, start) ?? emptyWindowStats(), event),
      );
      return;
    }
    if (ctx.config.latePolicy === 'dead-letter')
      throw new ValidationError(
        LATE_EVENT_REASON,
        `event at ${new Date(event.ts).toISOString()} is late: its window [${new Date(start).toISOString()}, +1 min) ` +
          `closed at watermark ${new Date(watermarkMs).toISOString()}`,
      );
    const corrections = ctx.store('corrections');
    const dueMs = (Math.floor(watermarkMs / WINDOW_MS) + 1) * WINDOW_MS;
    corrections.set(key, start, dueMs, addRequest(corrections.get(key, start) ?? emptyWindowStats(), event));
    ctx.count('late_event', 'corrected');
  },
  onWatermark(_partition, watermarkMs, ctx) {
    const emit = (service: string, row: ReturnType<typeof toStatsMinute>): void =>
      ctx.emit('stats', service, row, { timestamp: row.window_start });
    for (const rows of rowsByService(ctx.store('windows').closeUntil(watermarkMs), () => 0))
      for (const row of rows) emit(row.service, row);
    const revisionOf = (entry: WindowEntry<WindowStats>): number =>
      (entry.endMs - (entry.startMs + WINDOW_MS)) / WINDOW_MS;
    for (const rows of rowsByService(ctx.store('corrections').closeUntil(watermarkMs), revisionOf))
      for (const row of rows) emit(row.service, row);
  },
});

export function windowStartOf(tsMs: number): number {
  return Math.floor(tsMs / WINDOW_MS) * WINDOW_MS;
}

function groupKey(event: EnrichedRequest): string {
  return JSON.stringify([event.service, event.endpoint, event.region]);
}

function groupOf(key: string): StatsGroup {
  const [service = '', endpoint = '', region = ''] = JSON.parse(key) as string[];
  return { service, endpoint, region };
}

/** Closed windows as stats rows, one list per (service, window, revision), each with its service_rows. */
function rowsByService(
  closed: ReadonlyArray<WindowEntry<WindowStats>>,
  revisionOf: (entry: WindowEntry<WindowStats>) => number,
): Array<Array<ReturnType<typeof toStatsMinute>>> {
  const groups = new Map<string, Array<{ group: StatsGroup; entry: WindowEntry<WindowStats> }>>();
  for (const entry of closed) {
    const group = groupOf(entry.key);
    const id = `${entry.endMs}|${entry.startMs}|${group.service}`;
    const list = groups.get(id) ?? [];
    list.push({ group, entry });
    groups.set(id, list);
  }
  return [...groups.values()].map((list) =>
    list.map(({ group, entry }) =>
      toStatsMinute(
        group,
        { start: entry.startMs, end: entry.startMs + WINDOW_MS },
        revisionOf(entry),
        list.length,
        entry.value,
      ),
    ),
  );
}
