// Where a sink resumes a source partition, from what the store's write ledger and table hold and what
// Kafka committed. max(_offset) alone is not a resume point: one insert can land partially (ClickHouse
// commits one part per table partition, one by one), so a batch whose intent has no done record is
// checked: if the table holds all of its rows it is done; otherwise the batch is written again as the same
// insert (the same offsets, the same token), never as rows of a new batch. A server may still land the
// dead owner's insert after the new owner looked, and then only an identical insert is dropped as a repeat.
// A single writer (SinkConnector.singleWriter) has no dead owner whose insert may still land: there the
// rows the table lacks are simply written again in the next batches, which lets one insert carry many
// partitions.

/** One batch's rows for one target from one source partition, as the store's ledger records it. */
export interface LedgerEntry {
  target: string;
  topic: string;
  partition: number;
  /** Per (target, topic, partition), increasing: the latest entry is the one with the highest seq. */
  seq: number;
  firstOffset: number;
  lastOffset: number;
  /** Rows written (done) or to be written (intent). */
  rows: number;
  token: string;
  /** Offsets the store refused (done only), each with the store's reason. */
  rejected: Array<{ offset: number; detail: string }>;
}

/** What the store holds for one source partition. */
export interface StoredPartition {
  /** The latest batch the ledger records as done. */
  lastDone?: LedgerEntry | undefined;
  /** An intent newer than `lastDone`: its insert may have landed in full, in part or not at all. */
  open?: LedgerEntry | undefined;
  /** Offsets of `open`'s range that the target holds. */
  present?: ReadonlySet<number> | undefined;
  /** Highest offset the target table holds for the partition, if any. */
  tableMax?: number | undefined;
  /** Offsets refused by the store in done batches that end at or after the committed offset. */
  rejected: Array<{ offset: number; detail: string }>;
}

/** How the sink treats a partition's records until its next commit. */
export interface ResumePoint {
  /** Rows at or below this offset are in the store (-1: none). */
  stored: number;
  /** Offsets above `stored` that the store holds anyway (a partially landed batch). */
  present: ReadonlySet<number>;
  /** Dead letters are produced for offsets from here on; those below were committed with earlier offsets. */
  deadLettersFrom: number;
  /** Offsets at or below `stored` that the store refused, whose dead letters may not be committed yet. */
  rejected: ReadonlyMap<number, string>;
  /** Sequence number of the partition's next ledger entry. */
  nextSeq: number;
  /** An open intent the store may hold in part, or may yet land: written again exactly, before anything else. */
  replay?: Replay | undefined;
}

/** The range and token of an insert to repeat as it was. */
export interface Replay {
  firstOffset: number;
  lastOffset: number;
  token: string;
}

const NONE: ReadonlySet<number> = new Set();

/**
 * The resume point and the offset to seek to. `committed` is Kafka's committed offset (negative: none).
 * Rows are skipped up to what the store holds, dead letters up to what Kafka committed, so the seek goes
 * to the lower of the two. `singleWriter`: see SinkConnector.singleWriter.
 */
export function resumeFrom(
  held: StoredPartition,
  committed: number,
  singleWriter = false,
): { point: ResumePoint; seek: number } {
  const stored = storedThrough(held);
  const deadLettersFrom = Math.max(0, committed);
  const rejected = new Map<number, string>();
  for (const { offset, detail } of held.rejected)
    if (offset >= deadLettersFrom && offset <= stored) rejected.set(offset, detail);
  const seqs = [held.lastDone?.seq ?? -1, held.open?.seq ?? -1];
  const { open } = held;
  const landed = open !== undefined && (held.present?.size ?? 0) >= open.rows;
  // Skipping what landed of an open insert is safe only where nothing can land the rest later.
  const complete = landed || singleWriter;
  const point: ResumePoint = {
    stored,
    present: complete ? (held.present ?? NONE) : NONE,
    deadLettersFrom,
    rejected,
    nextSeq: Math.max(...seqs) + 1,
    replay:
      open === undefined || complete
        ? undefined
        : { firstOffset: open.firstOffset, lastOffset: open.lastOffset, token: open.token },
  };
  // Negative: the partition's beginning (nothing committed, or a target that holds nothing of it).
  const seek = committed < 0 || stored < 0 ? -1 : Math.min(committed, stored + 1);
  return { point, seek };
}

/** Highest offset through which every row is in the store. */
function storedThrough(held: StoredPartition): number {
  const { lastDone, open, tableMax } = held;
  let stored = lastDone?.lastOffset ?? tableMax ?? -1;
  // The ledger says done, but the table lacks the batch: truncated or restored from an older backup.
  if (lastDone !== undefined && lastDone.rows > 0 && (tableMax ?? -1) < lastDone.firstOffset)
    stored = tableMax ?? -1;
  if (open !== undefined) stored = Math.min(stored, open.firstOffset - 1);
  return stored;
}

/** After a commit: records below `recordsNext` are handled, dead letters below `committed` committed. */
export function committedThrough(point: ResumePoint, recordsNext: number, committed: number): ResumePoint {
  const stored = Math.max(point.stored, recordsNext - 1);
  return {
    ...point,
    stored,
    deadLettersFrom: Math.max(point.deadLettersFrom, committed),
    replay: point.replay !== undefined && stored >= point.replay.lastOffset ? undefined : point.replay,
  };
}

/** True once the consumer has fetched the whole range `point` must replay (`position`: its next offset). */
export function replayFetched(point: ResumePoint, position: number | undefined): boolean {
  return point.replay === undefined || (position ?? -1) > point.replay.lastOffset;
}

/** A record's fate under its partition's resume point. */
export function isStored(point: ResumePoint | undefined, offset: number): boolean {
  if (point === undefined) return false;
  return offset <= point.stored || point.present.has(offset);
}
