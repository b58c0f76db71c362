// The store side of a sink flush: an intent in the store's ledger for each partition write (its offsets
// and its insert's token), then the inserts (one per partition write, or with a single writer one per
// target), then the writes done with the rows the store refused, which become the plan's dead letters.
// An intent with no done record is what a later owner completes (sink-resume.ts), so a source offset is
// written exactly once.
import type { SinkRow } from './sink-definition.ts';
import type { BoundTopic, FlushPlan, PartitionWrite, SinkWritesDeps } from './sink-flush.ts';
import { FlushAbandoned, REJECTED_BY_STORE_REASON, SinkWrites, partitionKeyOf } from './sink-flush.ts';
import { dedupToken } from './sink-batch.ts';
import type { LedgerEntry, ResumePoint } from './sink-resume.ts';

export interface LedgerWriteDeps extends Omit<SinkWritesDeps, 'guard'> {
  /** This copy's identity in the store's ledger and claims. */
  writer: string;
  bound: ReadonlyMap<string, BoundTopic>;
}

/** Writes a flush plan's rows to the store, through the store's ledger, while this copy holds the claims. */
export class LedgerWriter {
  private readonly writes: SinkWrites;

  constructor(private readonly deps: LedgerWriteDeps) {
    this.writes = new SinkWrites({
      ...deps,
      guard: (topic, partition) => this.guard([{ topic, partition }]),
    });
  }

  /** Intent in the ledger, the rows (sinkInserts), then done with the offsets the store refused. */
  async write(plan: FlushPlan, points: Map<string, ResumePoint>): Promise<void> {
    const writes = [...plan.writes.values()];
    if (writes.length === 0) return;
    const { connector, writer } = this.deps;
    const inserts = sinkInserts(writes, points, connector.singleWriter === true);
    const entries = inserts.flatMap((insert) => insert.entries);
    await this.writes.retrying('ledger', async () => {
      await this.guard(writes);
      await connector.recordBatches('intent', writer, entries);
    });
    for (const insert of inserts) {
      const refused = await this.writes.writeTarget(insert.target, insert.rows, insert.token);
      noteRefused(this.deps.bound, plan, insert, refused);
      for (const [index, write] of insert.writes.entries()) {
        const entry = insert.entries[index] as LedgerEntry;
        entry.rows = write.rows.length - entry.rejected.length;
        this.deps.metrics.rows.inc({ target: write.target, outcome: 'written' }, entry.rows);
      }
    }
    await this.writes.retrying('ledger', () => connector.recordBatches('done', writer, entries));
  }

  /** Throws FlushAbandoned unless this copy holds the store's latest claim on the partitions. */
  private async guard(partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
    const claimed = partitions.map((p) => ({ ...p, target: '', committed: -1 }));
    if (!(await this.deps.connector.holdsClaims(this.deps.writer, claimed))) throw new FlushAbandoned();
  }
}

/** One insert into a target: the partition writes it carries, each with its ledger entry, by index. */
interface SinkInsert {
  target: string;
  writes: PartitionWrite[];
  entries: LedgerEntry[];
  rows: SinkRow[];
  token: string;
}

/**
 * The inserts of a flush: one per partition write, or with a single writer one per target carrying all
 * of its partitions' rows under one token (each partition keeps its own ledger entry with that token).
 */
function sinkInserts(
  writes: readonly PartitionWrite[],
  points: Map<string, ResumePoint>,
  singleWriter: boolean,
): SinkInsert[] {
  if (!singleWriter)
    return writes.map((write) => {
      const entry = intentFor(write, points, write.token ?? dedupToken(write.target, write.rows));
      return {
        target: write.target,
        writes: [write],
        entries: [entry],
        rows: write.rows,
        token: entry.token,
      };
    });
  const byTarget = new Map<string, PartitionWrite[]>();
  for (const write of writes) {
    const grouped = byTarget.get(write.target);
    if (grouped === undefined) byTarget.set(write.target, [write]);
    else grouped.push(write);
  }
  return [...byTarget].map(([target, grouped]) => {
    const rows = grouped.flatMap((w) => w.rows);
    const token = dedupToken(target, rows);
    const entries = grouped.map((write) => intentFor(write, points, token));
    return { target, writes: grouped, entries, rows, token };
  });
}

/** The ledger entry of `write`, numbered with its partition's next sequence number. */
function intentFor(write: PartitionWrite, points: Map<string, ResumePoint>, token: string): LedgerEntry {
  const key = partitionKeyOf(write.topic, write.partition);
  const point = points.get(key);
  const seq = point?.nextSeq ?? 0;
  if (point !== undefined) points.set(key, { ...point, nextSeq: seq + 1 });
  let firstOffset = Infinity;
  let lastOffset = -Infinity;
  for (const { offset } of write.rows) {
    if (offset < firstOffset) firstOffset = offset;
    if (offset > lastOffset) lastOffset = offset;
  }
  return {
    target: write.target,
    topic: write.topic,
    partition: write.partition,
    seq,
    firstOffset,
    lastOffset,
    rows: write.rows.length,
    token,
    rejected: [],
  };
}

/** Records each row the store refused in its partition's done entry, and as a dead letter of the plan. */
function noteRefused(
  bound: ReadonlyMap<string, BoundTopic>,
  plan: FlushPlan,
  insert: SinkInsert,
  refused: ReadonlyArray<{ row: SinkRow; detail: string }>,
): void {
  for (const { row, detail } of refused) {
    const index = insert.writes.findIndex((w) => w.partition === row.partition && w.topic === row.topic);
    const write = insert.writes[index];
    const entry = insert.entries[index];
    const message = write?.sources[write.rows.indexOf(row)];
    const topic = message === undefined ? undefined : bound.get(message.topic);
    if (entry === undefined || message === undefined || topic === undefined) continue;
    entry.rejected.push({ offset: row.offset, detail });
    plan.rejections.push({
      message,
      deadLetterTopic: topic.deadLetterTopic,
      reason: REJECTED_BY_STORE_REASON,
      detail,
    });
  }
}
