// The aggregate benchmarks' backlog: the load generator's valid events as enrich would have written them
// (Avro EnrichedRequest in the Confluent wire format, key = service), many minutes of event time with its
// out-of-order (1-5 s) and late (2-10 min) events, already in the topic before either contender starts.
// Written in the generator's order per service, so per partition event time advances as it did live.
import { EventGenerator, buildFleet, generatorOptionsSchema } from '../loadgen/index.ts';
import type { Fleet, ValidEvent } from '../loadgen/index.ts';
import type { EnrichedRequest } from '../runtime/contracts/index.ts';
import {
  AvroEncoder,
  HttpSchemaRegistry,
  loadSchemas,
  registerSchemas,
  valueSubject,
} from '../runtime/serde/index.ts';
import { createTopics, produceRecords } from '../runtime/testing/kafka-test-kit.ts';
import type { TestRecord } from '../runtime/testing/kafka-test-kit.ts';

export interface AggregateBacklog {
  topic: string;
  records: number;
  /** Events the generator made 2-10 minutes late: what a grace under 2 minutes must count late. */
  lateByGenerator: number;
  eventMinutes: number;
  /** Every event produced, in order, and whether the generator made it late. */
  events: { value: EnrichedRequest; late: boolean }[];
}

function enriched(fleet: Fleet, event: ValidEvent): EnrichedRequest {
  const service = fleet.services[event.service];
  const endpoint = fleet.endpoints[event.endpoint];
  const customer = fleet.customers[event.customer];
  return {
    event_id: event.eventId,
    ts: event.ts,
    service: service?.name ?? '',
    endpoint: endpoint?.route ?? '/',
    method: endpoint?.method ?? 'GET',
    status: event.status,
    latency_ms: event.latencyMs,
    bytes_out: event.bytesOut,
    customer_id: customer?.id ?? '',
    region: fleet.regions[event.region] ?? '',
    ingested_at: event.ts,
    team: service?.team ?? null,
    tier: service?.tier ?? null,
    latency_slo_ms: service?.latencySloMs ?? null,
    availability_slo: service?.availabilitySlo ?? null,
    plan: customer?.plan ?? null,
    account_region: fleet.regions[customer?.accountRegion ?? 0] ?? null,
    service_miss: null,
    customer_miss: null,
  };
}

/** Produces `events` EnrichedRequests spread over `eventMinutes` of event time ending about now. */
export async function produceAggregateBacklog(options: {
  brokers: string;
  registryUrl: string;
  topic: string;
  partitions: number;
  events: number;
  eventMinutes: number;
}): Promise<AggregateBacklog> {
  const fleet = buildFleet({ seed: 7 });
  const rate = options.events / (options.eventMinutes * 60);
  const generator = new EventGenerator(
    fleet,
    generatorOptionsSchema.parse({
      seed: 7,
      count: options.events,
      rate,
      startMs: Date.now() - options.eventMinutes * 60_000,
      duplicates: 0,
    }),
  );
  const schema = loadSchemas().get('EnrichedRequest');
  if (schema === undefined) throw new Error('schemas/enriched-request.avsc is missing');
  const subject = valueSubject(options.topic);
  const ids = await registerSchemas(new HttpSchemaRegistry(options.registryUrl), [{ subject, schema }]);
  const encoder = new AvroEncoder<EnrichedRequest>(ids.get(subject) ?? 0, schema.type);
  const records: TestRecord[] = [];
  const events: AggregateBacklog['events'] = [];
  for (let d = generator.next(); d !== undefined; d = generator.next()) {
    if (d.kind !== 'valid' || d.copy !== 0) continue; // ingest drops bad events and duplicates
    const value = enriched(fleet, d.event);
    events.push({ value, late: d.event.timing === 'late' });
    records.push({ key: value.service, value: encoder.encode(value), timestamp: d.event.ts });
  }
  await createTopics(options.brokers, [
    { name: options.topic, partitions: options.partitions, cleanupPolicy: 'delete' },
  ]);
  await produceRecords(options.brokers, options.topic, records);
  return {
    topic: options.topic,
    records: records.length,
    lateByGenerator: events.filter((e) => e.late).length,
    eventMinutes: options.eventMinutes,
    events,
  };
}
