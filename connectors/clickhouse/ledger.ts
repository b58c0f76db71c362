// The sink's write ledger and partition claims in ClickHouse (migration 003): what each source
// partition's latest batches were, which offsets the store refused, and which copy owns a partition.
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import type { LedgerEntry, StoredPartition } from '../../runtime/index.ts';
import { toSinkError } from './errors.ts';

export const LEDGER_TABLE = 'tributary_sink_ledger';
export const CLAIMS_TABLE = 'tributary_sink_claims';

export interface PartitionQuery {
  topic: string;
  partition: number;
  target: string;
  /** Kafka's committed offset: refused offsets of batches that end before it are not needed. */
  committed: number;
}

interface LatestRow {
  target: string;
  topic: string;
  partition: number;
  latest_seq: string;
  latest_state: 'intent' | 'done';
  latest_first: string;
  latest_last: string;
  latest_rows: number;
  latest_token: string;
  dones: string;
  done_seq: string;
  done_first: string;
  done_last: string;
  done_rows: number;
  done_token: string;
}

const LATEST_QUERY = `SELECT target, topic, partition,
    max(seq) AS latest_seq, argMax(state, (seq, state)) AS latest_state,
    argMax(first_offset, (seq, state)) AS latest_first, argMax(last_offset, (seq, state)) AS latest_last,
    argMax(rows, (seq, state)) AS latest_rows, argMax(token, (seq, state)) AS latest_token,
    countIf(state = 'done') AS dones, maxIf(seq, state = 'done') AS done_seq,
    argMaxIf(first_offset, seq, state = 'done') AS done_first,
    argMaxIf(last_offset, seq, state = 'done') AS done_last,
    argMaxIf(rows, seq, state = 'done') AS done_rows, argMaxIf(token, seq, state = 'done') AS done_token
  FROM ${LEDGER_TABLE} WHERE target IN {targets:Array(String)} AND topic IN {topics:Array(String)}
  GROUP BY target, topic, partition`;

const REJECTED_QUERY = `SELECT topic, partition, last_offset, rejected_offsets, rejected_details
  FROM ${LEDGER_TABLE} WHERE state = 'done' AND notEmpty(rejected_offsets)
    AND target IN {targets:Array(String)} AND topic IN {topics:Array(String)}`;

const keyOf = (topic: string, partition: number): string => `${topic}/${partition}`;

function entry(row: LatestRow, prefix: 'latest' | 'done'): LedgerEntry {
  return {
    target: row.target,
    topic: row.topic,
    partition: Number(row.partition),
    seq: Number(row[`${prefix}_seq`]),
    firstOffset: Number(row[`${prefix}_first`]),
    lastOffset: Number(row[`${prefix}_last`]),
    rows: Number(row[`${prefix}_rows`]),
    token: row[`${prefix}_token`],
    rejected: [],
  };
}

/** The ledger's latest done batch, an open intent after it, and refused offsets, per partition. */
export async function readLedger(
  client: ClickHouseClient,
  partitions: readonly PartitionQuery[],
): Promise<Map<string, StoredPartition>> {
  const wanted = new Map(partitions.map((p) => [keyOf(p.topic, p.partition), p]));
  const params = {
    targets: [...new Set(partitions.map((p) => p.target))],
    topics: [...new Set(partitions.map((p) => p.topic))],
  };
  const held = new Map<string, StoredPartition>();
  try {
    const latest = await select<LatestRow>(client, LATEST_QUERY, params);
    for (const row of latest) {
      const key = keyOf(row.topic, Number(row.partition));
      if (wanted.get(key)?.target !== row.target) continue;
      const lastDone = Number(row.dones) > 0 ? entry(row, 'done') : undefined;
      const open = row.latest_state === 'intent' ? entry(row, 'latest') : undefined;
      held.set(key, { lastDone, open, rejected: [] });
    }
    type RejectedRow = { topic: string; partition: number; last_offset: string } & {
      rejected_offsets: string[];
      rejected_details: string[];
    };
    for (const row of await select<RejectedRow>(client, REJECTED_QUERY, params)) {
      const key = keyOf(row.topic, Number(row.partition));
      const stored = held.get(key);
      const query = wanted.get(key);
      if (stored === undefined || query === undefined || Number(row.last_offset) < query.committed) continue;
      row.rejected_offsets.forEach((offset, i) =>
        stored.rejected.push({ offset: Number(offset), detail: row.rejected_details[i] ?? '' }),
      );
    }
  } catch (error) {
    throw toSinkError(error, `reading ${LEDGER_TABLE}`);
  }
  return held;
}

async function select<T>(
  client: ClickHouseClient,
  query: string,
  params: Record<string, unknown>,
): Promise<T[]> {
  const result = await client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}

/** Records batches in one insert into an unpartitioned table: one part, so all of them or none. */
export async function recordBatches(
  client: ClickHouseClient,
  state: 'intent' | 'done',
  writer: string,
  entries: readonly LedgerEntry[],
  settings: ClickHouseSettings = {},
): Promise<void> {
  if (entries.length === 0) return;
  const values = entries.map((e) => ({
    target: e.target,
    topic: e.topic,
    partition: e.partition,
    seq: e.seq,
    state,
    first_offset: e.firstOffset,
    last_offset: e.lastOffset,
    rows: e.rows,
    token: e.token,
    writer,
    rejected_offsets: e.rejected.map((r) => r.offset),
    rejected_details: e.rejected.map((r) => r.detail.slice(0, 500)),
  }));
  try {
    await client.insert({
      table: LEDGER_TABLE,
      values,
      format: 'JSONEachRow',
      clickhouse_settings: settings,
    });
  } catch (error) {
    throw toSinkError(error, `recording ${entries.length} ${state} entries in ${LEDGER_TABLE}`);
  }
}

/** The offsets in [first, last] of one source partition that a target table holds. */
export async function presentOffsets(
  client: ClickHouseClient,
  table: string,
  open: LedgerEntry,
): Promise<Set<number>> {
  try {
    const rows = await select<{ _offset: string }>(
      client,
      `SELECT DISTINCT _offset FROM ${table} WHERE _topic = {topic:String} AND _partition = {partition:UInt16}
        AND _offset BETWEEN {first:UInt64} AND {last:UInt64}`,
      { topic: open.topic, partition: open.partition, first: open.firstOffset, last: open.lastOffset },
    );
    return new Set(rows.map((row) => Number(row._offset)));
  } catch (error) {
    throw toSinkError(error, `reading which offsets of ${open.topic}/${open.partition} ${table} holds`);
  }
}

export async function writeClaims(
  client: ClickHouseClient,
  writer: string,
  partitions: ReadonlyArray<{ topic: string; partition: number }>,
): Promise<void> {
  if (partitions.length === 0) return;
  const values = partitions.map(({ topic, partition }) => ({ topic, partition, writer }));
  try {
    await client.insert({ table: CLAIMS_TABLE, values, format: 'JSONEachRow' });
  } catch (error) {
    throw toSinkError(error, `claiming ${partitions.length} partitions in ${CLAIMS_TABLE}`);
  }
}

/** True if `writer` made the latest claim on every one of the partitions. */
export async function holdsClaims(
  client: ClickHouseClient,
  writer: string,
  partitions: ReadonlyArray<{ topic: string; partition: number }>,
): Promise<boolean> {
  if (partitions.length === 0) return true;
  try {
    const rows = await select<{ topic: string; partition: number; owner: string }>(
      client,
      `SELECT topic, partition, argMax(writer, claimed_at) AS owner FROM ${CLAIMS_TABLE}
        WHERE topic IN {topics:Array(String)} GROUP BY topic, partition`,
      { topics: [...new Set(partitions.map((p) => p.topic))] },
    );
    const owners = new Map(rows.map((row) => [keyOf(row.topic, Number(row.partition)), row.owner]));
    return partitions.every(({ topic, partition }) => owners.get(keyOf(topic, partition)) === writer);
  } catch (error) {
    throw toSinkError(error, `reading ${CLAIMS_TABLE}`);
  }
}
