// A target table as the sink writes it: its ordinary columns (read from system.columns at start), each
// with a checked TabSeparated encoder. Meta columns _topic, _partition, _offset come from the record;
// columns with a DEFAULT (e.g. _inserted_at) are left to ClickHouse.
import { TributaryError } from '../../runtime/index.ts';
import type { ClickHouseClient } from '@clickhouse/client';
import type { SinkRecord } from '../../runtime/index.ts';
import { encoderFor, required } from './tsv.ts';
import type { ValueEncoder } from './tsv.ts';

const tableInvalid = (message: string): TributaryError =>
  new TributaryError('TRIBUTARY_CLICKHOUSE_TABLE_INVALID', message);

export const META_COLUMNS = ['_topic', '_partition', '_offset'] as const;

interface Column {
  name: string;
  type: string;
  encode: ValueEncoder;
  meta: boolean;
}

export interface TargetTable {
  name: string;
  columns: readonly string[];
  /** One TabSeparated line (no newline) for the record, or a ValidationError. */
  encodeRow(record: SinkRecord): string;
}

export async function describeTable(
  client: ClickHouseClient,
  database: string,
  table: string,
): Promise<TargetTable> {
  const result = await client.query({
    query: `SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {table:String}
      AND default_kind = '' ORDER BY position`,
    query_params: { db: database, table },
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ name: string; type: string }>();
  if (rows.length === 0) throw tableInvalid(`table ${database}.${table} does not exist (run its migration)`);
  const columns = rows.map((row): Column => {
    const encode = encoderFor(row.type);
    if (encode === undefined)
      throw tableInvalid(`${table}.${row.name}: the sink cannot write type ${row.type}`);
    return {
      name: row.name,
      type: row.type,
      encode: required(encode, row.type),
      meta: (META_COLUMNS as readonly string[]).includes(row.name),
    };
  });
  for (const meta of META_COLUMNS)
    if (!columns.some((c) => c.name === meta)) throw tableInvalid(`table ${table} has no ${meta} column`);
  return { name: table, columns: columns.map((c) => c.name), encodeRow: (r) => encodeRow(columns, r) };
}

function encodeRow(columns: readonly Column[], record: SinkRecord): string {
  const fields = new Array<string>(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i] as Column;
    const value = column.meta ? metaValue(column.name, record) : record.value[column.name];
    fields[i] = column.encode(value, column.name);
  }
  return fields.join('\t');
}

function metaValue(name: string, record: SinkRecord): unknown {
  if (name === '_topic') return record.topic;
  if (name === '_partition') return record.partition;
  return record.offset;
}
