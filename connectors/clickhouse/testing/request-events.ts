// Valid RequestEvents for sink tests against the real broker and registry, and a count of what the
// `requests` table holds of them.
import { TributaryError } from '../../../runtime/index.ts';
import {
  AvroEncoder,
  HttpSchemaRegistry,
  SCHEMAS_DIR,
  loadSchemas,
  registerSchemas,
  valueSubject,
} from '../../../runtime/serde/index.ts';
import type { TestRecord } from '../../../runtime/testing/kafka-test-kit.ts';
import { produceRecords } from '../../../runtime/testing/kafka-test-kit.ts';
import type { ClickHouseHandle } from '../connection.ts';

export interface RequestEventsOptions {
  brokers: string;
  registryUrl: string;
  topic: string;
  count: number;
  /** Prefix of every event id (`<tag>-<i>`), so a count finds this test's rows only. */
  tag: string;
  partitions: number;
  /** The event's time; default now. */
  tsOf?: (i: number) => number;
  /** Overrides of field values for event i (e.g. a value only ClickHouse refuses). */
  fieldsOf?: (i: number) => Record<string, unknown>;
}

/** Produces `count` RequestEvents, event i on partition i % partitions, and waits for every ack. */
export async function produceRequestEvents(options: RequestEventsOptions): Promise<void> {
  const schema = loadSchemas(SCHEMAS_DIR).get('RequestEvent');
  if (schema === undefined) throw new TributaryError('TRIBUTARY_SCHEMA_INVALID', 'no RequestEvent schema');
  const subject = valueSubject(options.topic);
  const ids = await registerSchemas(new HttpSchemaRegistry(options.registryUrl), [{ subject, schema }]);
  const encoder = new AvroEncoder<Record<string, unknown>>(ids.get(subject) ?? 0, schema.type);
  const now = Date.now();
  const records: TestRecord[] = Array.from({ length: options.count }, (_, i) => {
    const ts = options.tsOf?.(i) ?? now;
    const value = {
      event_id: `${options.tag}-${i}`,
      ts,
      service: 'svc',
      endpoint: '/x',
      method: 'GET',
      status: 200,
      latency_ms: 1.5,
      bytes_out: 10,
      customer_id: 'c',
      region: 'eu',
      ingested_at: ts,
      ...options.fieldsOf?.(i),
    };
    return { key: `${options.tag}-${i}`, value: encoder.encode(value), partition: i % options.partitions };
  });
  await produceRecords(options.brokers, options.topic, records);
}

/** `rows/distinct ids` of the events tagged `tag` in `requests`. */
export async function countRequests(handle: ClickHouseHandle, tag: string): Promise<string> {
  const result = await handle.client.query({
    query: `SELECT count() AS rows, uniqExact(event_id) AS ids FROM requests WHERE startsWith(event_id, {tag:String})`,
    query_params: { tag: `${tag}-` },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ rows: string; ids: string }>();
  return `${row?.rows ?? 0}/${row?.ids ?? 0}`;
}
