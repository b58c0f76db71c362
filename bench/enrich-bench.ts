// enrich's sustained events/s over Avro RequestEvents already in requests.valid, joined with a fleet's
// reference data (changes and misses included), as a real OS process: compared with the pass-through
// of the same run (`enrich_ratio`).
import { buildFleet, loadReferenceData, referenceTimeline } from '../loadgen/index.ts';
import type { RequestEvent } from '../runtime/contracts/index.ts';
import {
  AvroEncoder,
  HttpSchemaRegistry,
  loadSchemas,
  registerSchemas,
  valueSubject,
} from '../runtime/serde/index.ts';
import { createTopics, produceRecords } from '../runtime/testing/kafka-test-kit.ts';
import type { TestRecord } from '../runtime/testing/kafka-test-kit.ts';
import { measureProcessor } from './processor-throughput.ts';
import type { ThroughputResult } from './processor-throughput.ts';

const PREFIX = 'bench.';

export async function benchEnrich(options: {
  brokers: string;
  registryUrl: string;
  workDir: string;
  events: number;
  partitions: number;
}): Promise<ThroughputResult> {
  const registry = new HttpSchemaRegistry(options.registryUrl);
  const fleet = buildFleet({ seed: 3 });
  const startMs = Date.now() - 60_000;
  const timeline = referenceTimeline(fleet, { startMs, count: options.events, rate: options.events / 60 });
  await loadReferenceData({
    brokers: options.brokers,
    registry,
    topicPrefix: PREFIX,
    fleet: { seed: 3 },
    timeline,
  });

  const topic = `${PREFIX}requests.valid`;
  await createTopics(options.brokers, [
    { name: topic, partitions: options.partitions, cleanupPolicy: 'delete' },
  ]);
  const schema = loadSchemas().get('RequestEvent');
  if (schema === undefined) throw new Error('schemas/request-event.avsc is missing');
  const subject = valueSubject(topic);
  const ids = await registerSchemas(registry, [{ subject, schema }]);
  const encoder = new AvroEncoder<RequestEvent>(ids.get(subject) ?? 0, schema.type);
  const records: TestRecord[] = [];
  for (let i = 0; i < options.events; i++) {
    const endpoint = fleet.endpoints[i % fleet.endpoints.length];
    const event: RequestEvent = {
      event_id: `bench-enrich-${i}`,
      ts: startMs + Math.floor((i * 60_000) / options.events),
      service: fleet.services[endpoint?.service ?? 0]?.name ?? '',
      endpoint: endpoint?.route ?? '/',
      method: endpoint?.method ?? 'GET',
      status: i % 50 === 0 ? 503 : 200,
      latency_ms: 5 + (i % 400),
      bytes_out: 200 + (i % 5000),
      customer_id: fleet.customers[(i * 7) % fleet.customers.length]?.id ?? '',
      region: fleet.regions[i % fleet.regions.length] ?? '',
      ingested_at: startMs + 60_000,
    };
    records.push({ key: event.event_id, value: encoder.encode(event) });
  }
  await produceRecords(options.brokers, topic, records);
  return measureProcessor({
    name: 'enrich',
    brokers: options.brokers,
    registryUrl: options.registryUrl,
    topicPrefix: PREFIX,
    inputTopic: 'requests.valid',
    records: records.length,
    workDir: options.workDir,
  });
}
