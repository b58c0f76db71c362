// Input for the stateful ACL tests (secured-stateful-acls.test.ts), written and read back as Avro in the
// Confluent wire format on the test's own listener: request events for enrich, stats rows for alert.
import type { Fleet } from '../../loadgen/index.ts';
import { serviceMinute, T0 as ROWS_T0 } from '../../processors/alert/test-rows.ts';
import type { RequestEvent, StatsMinute } from '../../runtime/contracts/index.ts';
import {
  AvroDecoder,
  AvroEncoder,
  loadSchemas,
  registerSchemas,
  valueSubject,
} from '../../runtime/serde/index.ts';
import type { SchemaRegistry } from '../../runtime/serde/index.ts';
import type { ReadRecord } from '../../runtime/testing/kafka-test-kit.ts';

export const MINUTE = 60_000;

/** Registers `schema` (a record in schemas/) as the topic's value subject; encodes values with its id. */
export async function valueEncoder<T>(
  registry: SchemaRegistry,
  topic: string,
  schemaName: string,
): Promise<(value: T) => Buffer> {
  const schema = loadSchemas().get(schemaName);
  if (schema === undefined) throw new Error(`schemas/ has no record ${schemaName}`);
  const subject = valueSubject(topic);
  const ids = await registerSchemas(registry, [{ subject, schema }]);
  const encoder = new AvroEncoder<T>(ids.get(subject) ?? 0, schema.type);
  return (value) => encoder.encode(value);
}

/** The records' values, each with its writer schema. */
export async function decodeValues<T>(registry: SchemaRegistry, records: ReadRecord[]): Promise<T[]> {
  const decoder = AvroDecoder.forWriterSchema<T>(registry);
  await decoder.prepare(records.map((r) => r.value));
  return records.flatMap((r) => (r.value === null ? [] : [decoder.decode(r.value)]));
}

/**
 * One event a second per service in [fromMs, toMs) after t0, in event-time order, each from a customer of
 * the fleet (so both of enrich's lookups hit). One endpoint and region per service: one stats row per
 * (service, minute), counting 60 requests.
 */
export function requestEvents(
  fleet: Fleet,
  services: number,
  t0: number,
  fromMs: number,
  toMs: number,
): RequestEvent[] {
  const events: RequestEvent[] = [];
  for (let t = fromMs; t < toMs; t += 1_000)
    for (const service of fleet.services.slice(0, services)) {
      const ts = t0 + t;
      const customer = fleet.customers[(t / 1_000) % fleet.customers.length];
      events.push({
        event_id: `${service.name}-${ts}`,
        ts,
        service: service.name,
        endpoint: '/e',
        method: 'GET',
        status: 200,
        latency_ms: 10 + (ts % 97),
        bytes_out: 100,
        customer_id: customer?.id ?? '',
        region: 'eu',
        ingested_at: ts,
      });
    }
  return events;
}

/**
 * `minutes` of stats rows from t0 for every service of the fleet, 400 requests a minute, without the
 * SLOs the aggregate copies from enrich: alert can judge latency only with ref.services. The first
 * service runs at half its latency SLO (LatencyAboveSlo fires at 0.34), the rest at a tenth.
 */
export function statsRows(fleet: Fleet, t0: number, minutes: number): StatsMinute[] {
  const rows: StatsMinute[] = [];
  for (let m = 0; m < minutes; m++)
    for (const [i, s] of fleet.services.entries()) {
      const latencyMs = s.latencySloMs / (i === 0 ? 2 : 10);
      const spec = { service: s.name, requests: 400, errors5xx: 1, latencyMs, latencySloMs: null };
      for (const row of serviceMinute(m, { ...spec, availabilitySlo: null })) {
        const start = t0 + Math.round((row.window_start - ROWS_T0) / MINUTE) * MINUTE;
        rows.push({ ...row, window_start: start, window_end: start + MINUTE });
      }
    }
  return rows;
}
