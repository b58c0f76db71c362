// The ClickHouse side of the sink: what the tables already hold, rows encoded as TabSeparated, and one
// awaited insert per write carrying the runtime's deduplication token.
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import type { SinkConnector, SinkRecord, SinkRow, SinkWriteRequest } from '../../runtime/index.ts';
import { toSinkError } from './errors.ts';
import type { TargetTable } from './tables.ts';

export class ClickHouseConnector implements SinkConnector {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly tables: ReadonlyMap<string, TargetTable>,
    private readonly onClose: () => Promise<void>,
  ) {}

  async storedOffsets(
    partitions: ReadonlyArray<{ topic: string; partition: number; target: string }>,
  ): Promise<Map<string, number>> {
    const topicsByTarget = new Map<string, Set<string>>();
    for (const { topic, target } of partitions) {
      const topics = topicsByTarget.get(target) ?? new Set<string>();
      topics.add(topic);
      topicsByTarget.set(target, topics);
    }
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

  encode(record: SinkRecord): SinkRow {
    const data = this.table(record.binding.target).encodeRow(record);
    return { topic: record.topic, partition: record.partition, offset: record.offset, data };
  }

  async write(request: SinkWriteRequest): Promise<void> {
    const table = this.table(request.target);
    let body = '';
    for (const row of request.rows) body += `${row.data}\n`;
    try {
      await this.client.insert({
        table: table.name,
        values: Readable.from([Buffer.from(body)], { objectMode: false }),
        format: 'TabSeparated',
        columns: table.columns as [string, ...string[]],
        clickhouse_settings: { insert_deduplication_token: request.dedupToken },
      });
    } catch (error) {
      throw toSinkError(error, `inserting ${request.rows.length} rows into ${table.name}`);
    }
  }

  close(): Promise<void> {
    return this.onClose();
  }

  private table(target: string): TargetTable {
    const table = this.tables.get(target);
    if (table === undefined) throw new Error(`no table for target ${target}`);
    return table;
  }
}
