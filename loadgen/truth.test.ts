import { describe, expect, it } from 'vitest';
import type { Delivery } from './generator.ts';
import type { ReadEvent } from './test-support.ts';
import { generate, readRaw } from './test-support.ts';
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
  const cells = new Map<
    string,
    { requests: number; s4: number; s5: number; latency: number; bytes: number }
  >();
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
    const cell = cells.get(key) ?? { requests: 0, s4: 0, s5: 0, latency: 0, bytes: 0 };
    cell.requests++;
    if (e.status >= 400 && e.status < 500) cell.s4++;
    if (e.status >= 500) cell.s5++;
    cell.latency += e.latency_ms;
    cell.bytes += e.bytes_out;
    cells.set(key, cell);
  });
  return { valid: seen.size, reasons, cells, duplicates, late };
}

function truthCells(
  truth: Truth,
): Map<string, { requests: number; s4: number; s5: number; latency: number; bytes: number }> {
  return new Map(
    truth.stats_1m.map((row) => [
      [row.service, row.endpoint, row.region, row.minute_start_ms].join('|'),
      {
        requests: row.requests,
        s4: row.status_4xx,
        s5: row.status_5xx,
        latency: row.latency_sum_ms,
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

  it('records each incident window with its kind', () => {
    const { fleet, generator, deliveries } = generate({
      seed: 1,
      count: 1000,
      incidents: [{ service: 'payments', fromS: 10, toS: 20, errorRate: 0.3, latencyX: 1 }],
    });
    const recorder = new TruthRecorder(fleet, generator.runTag);
    record(deliveries, () => false, recorder);
    const truth = recorder.result(META, generator.incidents);
    expect(truth.incidents).toEqual([
      {
        service: 'payments',
        from_ms: 1749722410000,
        to_ms: 1749722420000,
        kind: 'error_rate',
        error_rate: 0.3,
        latency_x: 1,
      },
    ]);
  });
});
