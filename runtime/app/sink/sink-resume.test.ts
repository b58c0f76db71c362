import { describe, expect, it } from 'vitest';
import type { LedgerEntry, StoredPartition } from './sink-resume.ts';
import { committedThrough, isStored, replayFetched, resumeFrom } from './sink-resume.ts';

const entry = (seq: number, first: number, last: number, rows = last - first + 1): LedgerEntry => ({
  target: 'requests',
  topic: 't',
  partition: 0,
  seq,
  firstOffset: first,
  lastOffset: last,
  rows,
  token: `tok-${seq}`,
  rejected: [],
});

/** Batch 100..199: month A's rows (even offsets) landed, month B's (odd) did not; max(_offset) is 198. */
const landedInPart = (): StoredPartition => ({
  lastDone: entry(0, 0, 99),
  open: entry(1, 100, 199),
  present: new Set(Array.from({ length: 50 }, (_, i) => 100 + 2 * i)),
  tableMax: 198,
  rejected: [],
});

describe('where a sink resumes a partition', () => {
  it('repeats a batch that landed in part (one month part of two) as the same insert, not only its missing rows', () => {
    // Only the same offsets under the same token let the store drop what landed, even if more lands later.
    const held = landedInPart();
    const { point, seek } = resumeFrom(held, 100);
    expect(seek).toBe(100);
    expect(point.replay).toEqual({ firstOffset: 100, lastOffset: 199, token: 'tok-1' });
    const rewritten = Array.from({ length: 100 }, (_, i) => 100 + i).filter((o) => !isStored(point, o));
    expect(rewritten).toHaveLength(100);
    expect(point.nextSeq).toBe(2);
    expect(replayFetched(point, 199)).toBe(false);
    expect(replayFetched(point, 200)).toBe(true);
    expect(committedThrough(point, 200, 200).replay).toBeUndefined();
  });

  it('with a single writer, completes a batch that landed in part by writing only its missing rows', () => {
    // The same partial landing, but nothing else can land the rest later: the odd offsets go in the next
    // batches, whatever insert (and token) carries them, so one insert may carry many partitions.
    const held = landedInPart();
    const { point, seek } = resumeFrom(held, 100, true);
    expect(seek).toBe(100);
    expect(point.replay).toBeUndefined();
    const rewritten = Array.from({ length: 100 }, (_, i) => 100 + i).filter((o) => !isStored(point, o));
    expect(rewritten).toEqual(Array.from({ length: 50 }, (_, i) => 101 + 2 * i));
    expect(isStored(point, 200)).toBe(false);
    expect(point.nextSeq).toBe(2);
    // Nothing of the open batch landed: all of it is written again.
    const none = resumeFrom({ ...held, present: new Set() }, 100, true).point;
    expect(Array.from({ length: 100 }, (_, i) => 100 + i).some((o) => isStored(none, o))).toBe(false);
  });

  it('skips a batch whose intent has no done record when the table holds every one of its rows', () => {
    const present = new Set(Array.from({ length: 100 }, (_, i) => 100 + i));
    const held: StoredPartition = {
      lastDone: entry(0, 0, 99),
      open: entry(1, 100, 199),
      present,
      rejected: [],
    };
    const { point } = resumeFrom(held, 100);
    expect(point.replay).toBeUndefined();
    expect(Array.from({ length: 100 }, (_, i) => 100 + i).every((o) => isStored(point, o))).toBe(true);
    expect(isStored(point, 200)).toBe(false);
  });

  it('does not re-send dead letters when a partition ended in dead letters (store behind the commit)', () => {
    // Rows through 89 are stored, 90..99 were dead letters committed with offset 100.
    const { point, seek } = resumeFrom({ lastDone: entry(3, 50, 89), tableMax: 89, rejected: [] }, 100);
    expect(seek).toBe(90);
    expect(point.deadLettersFrom).toBe(100);
    expect(point.stored).toBe(89);
  });

  it('re-sends a dead letter of a row the store refused when the commit after the insert never happened', () => {
    const done = { ...entry(2, 100, 199, 99), rejected: [{ offset: 150, detail: 'CANNOT_PARSE' }] };
    const held: StoredPartition = { lastDone: done, tableMax: 199, rejected: done.rejected };
    const { point, seek } = resumeFrom(held, 100);
    expect({ seek, stored: point.stored, rejected: [...point.rejected] }).toEqual({
      seek: 100,
      stored: 199,
      rejected: [[150, 'CANNOT_PARSE']],
    });
    // Once committed, it is not re-sent: the commit moved past it.
    expect(resumeFrom(held, 200).point.rejected.size).toBe(0);
  });

  it('refills a truncated table from the beginning, and a table restored behind its ledger from its end', () => {
    expect(resumeFrom({ lastDone: entry(9, 900, 999), rejected: [] }, 1000)).toMatchObject({
      seek: -1,
      point: { stored: -1, deadLettersFrom: 1000 },
    });
    expect(resumeFrom({ lastDone: entry(9, 900, 999), tableMax: 499, rejected: [] }, 1000).seek).toBe(500);
    // Neither a ledger nor rows (both truncated): from the beginning as well.
    expect(resumeFrom({ rejected: [] }, 1000).seek).toBe(-1);
  });

  it('re-reads from the beginning when nothing was committed, so no dead letter is lost', () => {
    expect(resumeFrom({ lastDone: entry(0, 0, 99), tableMax: 99, rejected: [] }, -1001)).toMatchObject({
      seek: -1,
      point: { stored: 99, deadLettersFrom: 0 },
    });
  });

  it('advances after a commit without going back on a refill', () => {
    const { point } = resumeFrom({ lastDone: entry(9, 900, 999), rejected: [] }, 1000);
    const after = committedThrough(point, 200, 1000);
    expect({ stored: after.stored, deadLettersFrom: after.deadLettersFrom }).toEqual({
      stored: 199,
      deadLettersFrom: 1000,
    });
  });
});
