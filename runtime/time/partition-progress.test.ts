// A partition's event-time progress: the minimum over its upstream sources, monotone, silent sources
// left out after the idle timeout, an idle partition moving on by wall clock, and the header format.
import { describe, expect, it } from 'vitest';
import { PartitionProgress } from './partition-progress.ts';
import type { ProgressSnapshot } from './partition-progress.ts';
import { decodeWatermarkHeader, encodeWatermarkHeader } from './watermark-header.ts';
import type { WatermarkHeader } from './watermark-header.ts';

const IDLE = 30_000;
const from = (partition: number, progressMs: number): WatermarkHeader => ({
  topic: 'requests.valid',
  partition,
  partitions: 3,
  progressMs,
});

describe('PartitionProgress', () => {
  it('is the minimum over every upstream source partition, each unreported one holding it back', () => {
    const progress = new PartitionProgress(IDLE, 0);
    progress.observe(from(0, 5_000), undefined, 0);
    progress.observe(from(1, 9_000), undefined, 0);
    expect(progress.progress).toBe(Number.NEGATIVE_INFINITY); // source 2 has not reported
    progress.observe(from(2, 7_000), undefined, 0);
    expect(progress.progress).toBe(5_000);
    progress.observe(from(0, 20_000), undefined, 0);
    expect(progress.progress).toBe(7_000);
  });

  it('never goes back, neither by a source reporting less nor by one rejoining behind', () => {
    const progress = new PartitionProgress(IDLE, 0);
    for (const p of [0, 1, 2]) progress.observe(from(p, 10_000), undefined, 0);
    progress.observe(from(1, 3_000), undefined, 1);
    expect(progress.progress).toBe(10_000);
  });

  it('leaves a source silent for the idle timeout out of the minimum', () => {
    const progress = new PartitionProgress(IDLE, 0);
    for (const p of [0, 1, 2]) progress.observe(from(p, 1_000), undefined, 0);
    progress.observe(from(0, 50_000), undefined, IDLE - 1);
    progress.observe(from(1, 60_000), undefined, IDLE - 1);
    expect(progress.progress).toBe(1_000);
    progress.observe(from(0, 51_000), undefined, IDLE);
    expect(progress.progress).toBe(51_000); // source 2 silent since 0
  });

  it('gives every source a new timeout when the partition wakes from idle, so the first to resume does not run ahead', () => {
    const progress = new PartitionProgress(IDLE, 0);
    for (const p of [0, 1, 2]) progress.observe(from(p, 1_000), undefined, 0);
    progress.observe(from(0, 90_000), undefined, 5 * IDLE);
    expect(progress.progress).toBe(1_000);
    for (const p of [1, 2]) progress.observe(from(p, 60_000), undefined, 5 * IDLE + 1);
    expect(progress.progress).toBe(60_000);
  });

  it('moves an idle partition on with the wall clock from its last record, and records stop that', () => {
    const progress = new PartitionProgress(IDLE, 0);
    progress.observe(undefined, 100_000, 0);
    expect(progress.tick(IDLE - 1)).toEqual({ advanced: false, becameIdle: false });
    expect(progress.tick(IDLE)).toEqual({ advanced: true, becameIdle: true });
    expect(progress.progress).toBe(100_000 + IDLE);
    expect(progress.tick(IDLE + 5_000).becameIdle).toBe(false);
    expect(progress.progress).toBe(100_000 + IDLE + 5_000);
    progress.observe(undefined, 101_000, IDLE + 6_000);
    expect(progress.isIdle).toBe(false);
    expect(progress.progress).toBe(100_000 + IDLE + 5_000);
  });

  it('restores from its snapshot, its sources holding the minimum again until they report', () => {
    const progress = new PartitionProgress(IDLE, 0);
    for (const p of [0, 1, 2]) progress.observe(from(p, 1_000 * (p + 1)), undefined, 0);
    const restored = new PartitionProgress(IDLE, 500_000, progress.snapshot());
    expect(restored.progress).toBe(1_000);
    restored.observe(from(0, 9_000), undefined, 500_000);
    expect(restored.progress).toBe(2_000);
    expect(JSON.parse(JSON.stringify(restored.snapshot()))).toEqual(restored.snapshot());
  });
});

describe('an idle partition whose progress is unknown', () => {
  // Regression (issue 12, found by the CI demo 2026-12-02): requests.valid partition q hears only from
  // requests.raw partition q (both keyed by event_id), so the other declared sources hold enrich's progress
  // at "unknown" for a whole timeout; a run shorter than that ended with every downstream header unknown,
  // and the aggregate's idle close, moving on from an unknown progress, never closed a window.
  it('moves on by the clock from the largest event time it saw', () => {
    const progress = new PartitionProgress(IDLE, 0);
    for (let i = 0; i < 5; i++)
      progress.observe(from(0, Number.NEGATIVE_INFINITY), 100_000 + i * 1_000, i * 10);
    expect(progress.progress).toBe(Number.NEGATIVE_INFINITY);
    const { becameIdle } = progress.tick(40 + IDLE);
    expect(becameIdle).toBe(true);
    expect(progress.progress).toBe(104_000 + IDLE);
  });

  // Regression (issue 12, aggregate-reconcile e2e): with two minutes of event time per wall second, the
  // progress in the headers trailed the newest records by 12 minutes when the load ended; moving on from
  // it by the wall clock left the last 12 windows open for 12 minutes.
  it('moves on from the largest event time it saw when that is ahead of its progress', () => {
    const progress = new PartitionProgress(IDLE, 0);
    for (const p of [0, 1, 2]) progress.observe(from(p, 100_000), 820_000, 0);
    expect(progress.progress).toBe(100_000);
    progress.tick(IDLE);
    expect(progress.progress).toBe(820_000 + IDLE);
  });

  // Regression (issue 12, aggregate-reconcile e2e): an aggregate copy restarted after its input was all
  // committed got no record; its snapshot did not keep the largest event time, so the idle close had
  // nothing to move on from and two partitions' windows never closed.
  it('keeps the largest event time across a restore, so a restarted idle partition still moves on', () => {
    const progress = new PartitionProgress(IDLE, 0);
    progress.observe(from(0, Number.NEGATIVE_INFINITY), 100_000, 0);
    const stored = JSON.parse(JSON.stringify(progress.snapshot())) as ProgressSnapshot;
    const restored = new PartitionProgress(IDLE, 1_000, stored);
    restored.tick(1_000 + IDLE);
    expect(restored.progress).toBe(100_000 + IDLE);
  });
});

describe('tributary-wm header', () => {
  it('round-trips, an unknown progress included, and refuses what no writer produced', () => {
    for (const header of [from(2, 1_764_638_400_000), from(0, Number.NEGATIVE_INFINITY)])
      expect(decodeWatermarkHeader(encodeWatermarkHeader(header))).toEqual(header);
    expect(encodeWatermarkHeader(from(2, 1_764_638_400_000)).toString()).toBe(
      '1764638400000;2;3;requests.valid',
    );
    for (const bad of ['', '1;2', 'x;0;1;t', '1;3;3;t', '1;0;1;'])
      expect(() => decodeWatermarkHeader(bad)).toThrow(
        expect.objectContaining({ code: 'TRIBUTARY_TIME_BAD_HEADER' }),
      );
  });
});
