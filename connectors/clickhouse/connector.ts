// The ClickHouse side of the sink: what the tables and the write ledger hold, rows encoded as
// TabSeparated, one awaited insert per write carrying the runtime's deduplication token, and (server
// mode, several copies) partition claims with an insert lease.
import { TributaryError } from '../../runtime/index.ts';
import { Readable } from 'node:stream';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import type {
  LedgerEntry,
  SinkConnector,
  SinkPartition,
  SinkRecord,
  SinkRow,
  SinkWriteRequest,
  StoredPartition,
} from '../../runtime/index.ts';
import { toSinkError } from './errors.ts';
import { holdsClaims, presentOffsets, readLedger, recordBatches, writeClaims } from './ledger.ts';
import type { TargetTable } from './tables.ts';

export interface ConnectorOptions {
  /**
   * Server mode: how long a new owner of a partition waits after claiming it, in ms, so that an insert
   * the previous owner started can no longer land; inserts are cancelled by the server after half of it.
   * 0 in embedded mode, where this process is the only writer (the data-dir lock).
   */
  insertLeaseMs: number;
  /**
   * Embedded mode: the data-dir lock makes this process the only writer, so each target is written in
   * one insert across partitions (SinkConnector.singleWriter).
   */
  singleWriter?: boolean;
}

/** Rows are TabSeparated lines, the format inserts are sent in. */
export class ClickHouseConnector implements SinkConnector<string> {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly tables: ReadonlyMap<string, TargetTable>,
    private readonly onClose: () => Promise<void>,
    private readonly options: ConnectorOptions = { insertLeaseMs: 0 },
  ) {}

  get singleWriter(): boolean {
    return this.options.singleWriter === true;
  }

  async storedPartitions(partitions: readonly SinkPartition[]): Promise<Map<string, StoredPartition>> {
    const held = await readLedger(this.client, partitions);
    const tableMax = await this.tableMaxOffsets(partitions);
    for (const { topic, partition, target } of partitions) {
      const key = `${topic}/${partition}`;
      const stored = held.get(key) ?? { rejected: [] };
      stored.tableMax = tableMax.get(key);
      if (stored.open !== undefined)
        stored.present = await presentOffsets(this.client, this.table(target).name, stored.open);
      held.set(key, stored);
    }
    return held;
  }

  /** Highest source offset per partition in each target table (cheap: a projection keeps it). */
  private async tableMaxOffsets(partitions: readonly SinkPartition[]): Promise<Map<string, number>> {
    const topicsByTarget = new Map<string, Set<string>>();
    for (const { topic, target } of partitions)
      topicsByTarget.set(target, (topicsByTarget.get(target) ?? new Set<string>()).add(topic));
    const stored = new Map<string, number>();
    for (const [target, topics] of topicsByTarget) {
      const table = this.table(target);
      try {
        const result = await this.client.query({
          query: `SELECT _topic, _partition, max(_offset) AS offset FROM ${table.name}
            WHERE _topic IN {topics:Array(String)} GROUP BY _topic, _partition`,
          query_params: { topics: [...topics] },
          format: 'JSONEachRow',
        });
        const rows = await result.json<{ _topic: string; _partition: number; offset: string | number }>();
        for (const row of rows) stored.set(`${row._topic}/${row._partition}`, Number(row.offset));
      } catch (error) {
        throw toSinkError(error, `reading stored offsets of ${target}`);
      }
    }
    return stored;
  }

  recordBatches(state: 'intent' | 'done', writer: string, entries: readonly LedgerEntry[]): Promise<void> {
    return recordBatches(this.client, state, writer, entries, this.leaseSettings());
  }

  async claim(writer: string, partitions: readonly SinkPartition[]): Promise<void> {
    if (this.options.insertLeaseMs <= 0) return;
    await writeClaims(this.client, writer, partitions);
    await new Promise((resolve) => setTimeout(resolve, this.options.insertLeaseMs));
  }

  holdsClaims(writer: string, partitions: readonly SinkPartition[]): Promise<boolean> {
    if (this.options.insertLeaseMs <= 0) return Promise.resolve(true);
    return holdsClaims(this.client, writer, partitions);
  }

  encode(record: SinkRecord): SinkRow<string> {
    const data = this.table(record.binding.target).encodeRow(record);
    return { topic: record.topic, partition: record.partition, offset: record.offset, data };
  }

  async write(request: SinkWriteRequest<string>): Promise<void> {
    const table = this.table(request.target);
    let body = '';
    for (const row of request.rows) body += `${row.data}\n`;
    try {
      await this.client.insert({
        table: table.name,
        values: Readable.from([Buffer.from(body)], { objectMode: false }),
        format: 'TabSeparated',
        columns: table.columns as [string, ...string[]],
        clickhouse_settings: { insert_deduplication_token: request.dedupToken, ...this.leaseSettings() },
      });
    } catch (error) {
      throw toSinkError(error, `inserting ${request.rows.length} rows into ${table.name}`);
    }
  }

  /** The server cancels an insert that outlives half the lease: it cannot land after a new owner waited it out. */
  private leaseSettings(): ClickHouseSettings {
    const lease = this.options.insertLeaseMs;
    return lease > 0 ? { max_execution_time: lease / 2000 } : {};
  }

  close(): Promise<void> {
    return this.onClose();
  }

  private table(target: string): TargetTable {
    const table = this.tables.get(target);
    if (table === undefined)
      throw new TributaryError('TRIBUTARY_INTERNAL_INVARIANT', `no table for target ${target}`);
    return table;
  }
}
