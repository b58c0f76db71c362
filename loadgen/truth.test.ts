import { describe, expect, it } from 'vitest';
import type { Delivery } from './generator.ts';
import type { ReadEvent } from './test-support.ts';
import { generate, readRaw } from './test-support.ts';
import { incidentsOf } from './incident-truth.ts';
import { TruthRecorder } from './truth.ts';
import type { Truth } from './truth.ts';

const META = {
  run_id: 'r',
  topic: 't',
  partitions: 6,
  started_at: '',
  finished_at: '',
  generator: {},
  event_time: { from_ms: 0, to_ms: 0 },
};

/** Feeds the recorder as the producer would: every delivery produced, some of them failing. */
function record(
  deliveries: readonly Delivery[],
  fails: (d: Delivery, i: number) => boolean,
  recorder: TruthRecorder,
): Set<number> {
  const failed = new Set<number>();
  deliveries.forEach((d, i) => {
    recorder.onProduced(d);
    if (fails(d, i)) {
      failed.add(i);
      recorder.onFailed(d);
    } else {
      recorder.onAcknowledged(d);
    }
  });
  return failed;
}

/** The truth recounted the plain way: read every acknowledged record's bytes, keep first event ids. */
function recount(deliveries: readonly Delivery[], failed: Set<number>, streamTimeMs: (i: number) => number) {
  const seen = new Set<string>();
  const reasons: Record<string, number> = {};
  const cells = new Map<string, RecountCell>();
  let duplicates = 0;
  let late = 0;
  deliveries.forEach((d, i) => {
    if (failed.has(i)) return;
    const read = readRaw(d.value);
    if ('reason' in read) {
      reasons[read.reason] = (reasons[read.reason] ?? 0) + 1;
      return;
    }
    const e: ReadEvent = read.event;
    if (seen.has(e.event_id)) {
      duplicates++;
      return;
    }
    seen.add(e.event_id);
    const index = Number(e.event_id.slice(e.event_id.lastIndexOf('-') + 1));
    if (streamTimeMs(index) - e.ts >= 119_000) late++;
    const key = [e.service, e.endpoint, e.region, e.ts - (e.ts % 60_000)].join('|');
    const cell = cells.get(key) ?? {
      requests: 0,
      classes: [0, 0, 0, 0, 0],
      latency: 0,
      min: Infinity,
      max: 0,
      bytes: 0,
    };
    cell.requests++;
    const statusClass = e.status >= 200 && e.status <= 599 ? Math.floor(e.status / 100) - 1 : 0;
    cell.classes[statusClass] = (cell.classes[statusClass] ?? 0) + 1;
    cell.latency += e.latency_ms;
    cell.min = Math.min(cell.min, e.latency_ms);
    cell.max = Math.max(cell.max, e.latency_ms);
    cell.bytes += e.bytes_out;
    cells.set(key, cell);
  });
  return { valid: seen.size, reasons, cells, duplicates, late };
}

interface RecountCell {
  requests: number;
  /** 1xx (and out of range), 2xx, 3xx, 4xx, 5xx. */
  classes: number[];
  latency: number;
  min: number;
  max: number;
  bytes: number;
}

function truthCells(truth: Truth): Map<string, RecountCell> {
  return new Map(
    truth.stats_1m.map((row) => [
      [row.service, row.endpoint, row.region, row.minute_start_ms].join('|'),
      {
        requests: row.requests,
        classes: [row.status_1xx, row.status_2xx, row.status_3xx, row.status_4xx, row.status_5xx],
        latency: row.latency_sum_ms,
        min: row.latency_min_ms,
        max: row.latency_max_ms,
        bytes: row.bytes_out,
      },
    ]),
  );
}

describe('TruthRecorder', () => {
  it('equals a plain recount of the acknowledged records', () => {
    const { fleet, generator, deliveries } = generate({
      seed: 4,
      count: 60_000,
      duplicates: 0.03,
      late: 0.01,
      noise: 0.1,
    });
    const recorder = new TruthRecorder(fleet, generator.runTag);
    const failed = record(deliveries, () => false, recorder);
    const truth = recorder.result(META, generator.incidents);
    const expected = recount(deliveries, failed, (i) => generator.streamTimeMs(i));

    expect(truth.valid_events).toBe(expected.valid);
    expect(truth.duplicates).toBe(expected.duplicates);
    expect(truth.late.count).toBe(expected.late);
    expect(truth.late.per_minute.reduce((sum, m) => sum + m.count, 0)).toBe(truth.late.count);
    expect(Object.fromEntries(Object.entries(truth.dead_letters).filter(([, n]) => n > 0))).toEqual(
      expected.reasons,
    );
    expect(truthCells(truth)).toEqual(expected.cells);
    expect(truth.totals.requests).toBe(expected.valid);
    expect(truth.acknowledged.deliveries).toBe(deliveries.length);
    expect(truth.failed_event_ids).toEqual([]);
  });

  it('leaves out failed deliveries and counts a duplicate only when both copies were acknowledged', () => {
    const { fleet, generator, deliveries } = generate({ seed: 6, count: 40_000, duplicates: 0.05 });
    const recorder = new TruthRecorder(fleet, generator.runTag);
    // Fail every 37th delivery: some originals, some duplicates, some bad records.
    const failed = record(deliveries, (_, i) => i % 37 === 0, recorder);
    const truth = recorder.result(META, generator.incidents);
    const expected = recount(deliveries, failed, (i) => generator.streamTimeMs(i));

    expect(truth.failed.deliveries).toBe(failed.size);
    expect(truth.acknowledged.deliveries + truth.failed.deliveries).toBe(truth.produced.deliveries);
    expect(truth.valid_events).toBe(expected.valid);
    expect(truth.duplicates).toBe(expected.duplicates);
    expect(truthCells(truth)).toEqual(expected.cells);
    const acknowledgedKeys = new Set(deliveries.filter((_, i) => !failed.has(i)).map((d) => d.key));
    const lost = new Set(deliveries.filter((d) => !acknowledgedKeys.has(d.key)).map((d) => d.key));
    expect(new Set(truth.failed_event_ids)).toEqual(lost);
  });

  it('records each incident injected with its kind and span, read back by incidentsOf', () => {
    const { fleet, generator, deliveries } = generate({
      seed: 1,
      count: 1000,
      incidents: [
        { kind: 'error_burst', service: 'payments', fromS: 10, toS: 20, errorRate: 0.3 },
        { kind: 'traffic_drop', service: 'cart', fromS: 15, toS: 25, trafficShare: 0.2 },
      ],
    });
    const recorder = new TruthRecorder(fleet, generator.runTag);
    record(deliveries, () => false, recorder);
    const truth = recorder.result(META, generator.incidents);
    expect(truth.incidents).toEqual([
      {
        service: 'payments',
        kind: 'error_burst',
        start_ms: 1749722410000,
        end_ms: 1749722420000,
        error_rate: 0.3,
      },
      {
        service: 'cart',
        kind: 'traffic_drop',
        start_ms: 1749722415000,
        end_ms: 1749722425000,
        traffic_share: 0.2,
      },
    ]);
    expect(incidentsOf(truth)).toEqual([
      {
        service: 'payments',
        kind: 'error_burst',
        startMs: 1749722410000,
        endMs: 1749722420000,
        magnitude: 0.3,
      },
      { service: 'cart', kind: 'traffic_drop', startMs: 1749722415000, endMs: 1749722425000, magnitude: 0.2 },
    ]);
  });

  it('reads the incidents of a truth written before incident kinds', () => {
    const legacy = [
      { service: 'payments', from_ms: 10, to_ms: 20, kind: 'error_rate', error_rate: 0.5, latency_x: 5 },
      { service: 'payments', from_ms: 10, to_ms: 20, kind: 'latency', error_rate: 0.5, latency_x: 5 },
    ];
    expect(incidentsOf({ incidents: legacy as unknown as Truth['incidents'] })).toEqual([
      { service: 'payments', kind: 'error_burst', startMs: 10, endMs: 20, magnitude: 0.5 },
      { service: 'payments', kind: 'latency_spike', startMs: 10, endMs: 20, magnitude: 5 },
    ]);
  });
});
