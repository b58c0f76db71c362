// The store side of a sink flush: an intent in the store's ledger for each partition write (its offsets
// and its token), then each write's rows, then the writes done with the rows the store refused, which
// become the plan's dead letters. An intent with no done record is what a later owner writes again as
// the same insert (sink-resume.ts), so a source offset is written exactly once.
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

  /** Intent in the ledger, each partition's rows, then done with the offsets the store refused. */
  async write(plan: FlushPlan, points: Map<string, ResumePoint>): Promise<void> {
    const writes = [...plan.writes.values()];
    if (writes.length === 0) return;
    const { connector, writer } = this.deps;
    const entries = writes.map((write) => intentFor(write, points));
    await this.writes.retrying('ledger', async () => {
      await this.guard(writes);
      await connector.recordBatches('intent', writer, entries);
    });
    for (const [index, write] of writes.entries()) {
      const entry = entries[index] as LedgerEntry;
      const refused = await this.writes.writeTarget(write.target, write.rows, entry.token);
      noteRefused(this.deps.bound, plan, write, entry, refused);
      entry.rows = write.rows.length - entry.rejected.length;
      this.deps.metrics.rows.inc({ target: write.target, outcome: 'written' }, entry.rows);
    }
    await this.writes.retrying('ledger', () => connector.recordBatches('done', writer, entries));
  }

  /** Throws FlushAbandoned unless this copy holds the store's latest claim on the partitions. */
  private async guard(partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
    const claimed = partitions.map((p) => ({ ...p, target: '', committed: -1 }));
    if (!(await this.deps.connector.holdsClaims(this.deps.writer, claimed))) throw new FlushAbandoned();
  }
}

/** The ledger entry of `write`, numbered with its partition's next sequence number. */
function intentFor(write: PartitionWrite, points: Map<string, ResumePoint>): LedgerEntry {
  const key = partitionKeyOf(write.topic, write.partition);
  const point = points.get(key);
  const seq = point?.nextSeq ?? 0;
  if (point !== undefined) points.set(key, { ...point, nextSeq: seq + 1 });
  const offsets = write.rows.map((row) => row.offset);
  return {
    target: write.target,
    topic: write.topic,
    partition: write.partition,
    seq,
    firstOffset: Math.min(...offsets),
    lastOffset: Math.max(...offsets),
    rows: write.rows.length,
    token: write.token ?? dedupToken(write.target, write.rows),
    rejected: [],
  };
}

/** Records each row the store refused in its done entry, and as a dead letter of the plan. */
function noteRefused(
  bound: ReadonlyMap<string, BoundTopic>,
  plan: FlushPlan,
  write: PartitionWrite,
  entry: LedgerEntry,
  refused: ReadonlyArray<{ row: SinkRow; detail: string }>,
): void {
  for (const { row, detail } of refused) {
    const message = write.sources[write.rows.indexOf(row)];
    const topic = message === undefined ? undefined : bound.get(message.topic);
    if (message === undefined || topic === undefined) continue;
    entry.rejected.push({ offset: row.offset, detail });
    plan.rejections.push({
      message,
      deadLetterTopic: topic.deadLetterTopic,
      reason: REJECTED_BY_STORE_REASON,
      detail,
    });
  }
}
