// Our processors against their Kafka Streams peers on the same backlog in the same run (issues 12, 16):
// - kafka_streams_passthrough_events_per_s, passthrough_vs_kafka_streams: the pass-through's backlog
//   (bench.passthrough.in, already consumed by ours) copied by Kafka Streams, bytes unchanged;
// - kafka_streams_aggregate_events_per_s (and _late): one-minute windows over an EnrichedRequest backlog
//   in a partition-local store (like ours); kafka_streams_aggregate_dsl_*: the idiomatic DSL app, which
//   re-keys through a repartition topic and so, replaying a backlog, sees event times interleaved;
//   aggregate_events_per_s, aggregate_ratio (/ pass-through), aggregate_vs_kafka_streams once
//   processors/aggregate exists. Both sides get the same allowed lateness (AGGREGATE_GRACE_MS).
import { processors } from '../processors/index.ts';
import { produceAggregateBacklog } from './aggregate-backlog.ts';
import { measureKafkaStreams } from './kafka-streams-peers.ts';
import { measureProcessor } from './processor-throughput.ts';
import type { ThroughputResult } from './processor-throughput.ts';

/** Over the generator's out-of-order events (1-5 s behind), under its late ones (2-10 min behind). */
const AGGREGATE_GRACE_MS = 60_000;
const AGGREGATE_EVENT_MINUTES = 30;

interface PeerBenchOptions {
  brokers: string;
  registryUrl: string;
  records: number;
  workDir: string;
  passthrough: ThroughputResult;
  say: (line: string) => void;
}

export async function benchKafkaStreamsPassthrough(
  options: PeerBenchOptions & { topicPrefix: string },
): Promise<Record<string, number>> {
  options.say('Kafka Streams pass-through: the same backlog, exactly_once_v2, 100 ms commits');
  const peer = await measureKafkaStreams({
    mode: 'passthrough',
    brokers: options.brokers,
    applicationId: 'bench-kstreams-passthrough',
    inputTopic: `${options.topicPrefix}passthrough.in`,
    outputTopic: 'bench-kstreams.passthrough.out',
    partitions: 6,
    records: options.records,
    workDir: options.workDir,
  });
  return {
    kafka_streams_passthrough_events_per_s: peer.eventsPerS,
    kafka_streams_passthrough_rss_steady_mb: peer.rssSteadyMb,
    kafka_streams_passthrough_cpu_us_per_event: peer.cpuUsPerEvent,
    passthrough_vs_kafka_streams: options.passthrough.eventsPerS / peer.eventsPerS,
    // Above 1: ours costs less CPU per event.
    passthrough_cpu_vs_kafka_streams: peer.cpuUsPerEvent / options.passthrough.cpuUsPerEvent,
  };
}

export async function benchAggregate(
  options: PeerBenchOptions & { partitions: number },
): Promise<Record<string, number>> {
  const events = Number(process.env['BENCH_AGGREGATE_EVENTS'] ?? options.records);
  options.say(
    `aggregate backlog: ${events.toLocaleString()} EnrichedRequests over ${AGGREGATE_EVENT_MINUTES} min of event time`,
  );
  const backlog = await produceAggregateBacklog({
    brokers: options.brokers,
    registryUrl: options.registryUrl,
    topic: 'bench-agg.requests.enriched',
    partitions: options.partitions,
    events,
    eventMinutes: AGGREGATE_EVENT_MINUTES,
  });
  const figures: Record<string, number> = {
    aggregate_backlog_events: backlog.records,
    aggregate_backlog_late_by_generator: backlog.lateByGenerator,
  };
  options.say(
    `Kafka Streams aggregate: one-minute windows in a partition-local store, grace ${AGGREGATE_GRACE_MS / 1000} s`,
  );
  const peer = await measureKafkaStreams({
    mode: 'aggregate',
    brokers: options.brokers,
    applicationId: 'bench-kstreams-aggregate',
    inputTopic: backlog.topic,
    outputTopic: 'bench-kstreams.stats.1m',
    partitions: options.partitions,
    records: backlog.records,
    workDir: options.workDir,
    graceMs: AGGREGATE_GRACE_MS,
  });
  figures['kafka_streams_aggregate_events_per_s'] = peer.eventsPerS;
  figures['kafka_streams_aggregate_late'] = peer.droppedRecords;
  figures['kafka_streams_aggregate_rss_steady_mb'] = peer.rssSteadyMb;
  figures['kafka_streams_aggregate_cpu_us_per_event'] = peer.cpuUsPerEvent;
  options.say('Kafka Streams aggregate, idiomatic DSL: re-keyed through a repartition topic, same grace');
  const dsl = await measureKafkaStreams({
    mode: 'aggregate-dsl',
    brokers: options.brokers,
    applicationId: 'bench-kstreams-aggregate-dsl',
    inputTopic: backlog.topic,
    outputTopic: 'bench-kstreams.stats.1m.dsl',
    partitions: options.partitions,
    records: backlog.records,
    workDir: options.workDir,
    graceMs: AGGREGATE_GRACE_MS,
  });
  figures['kafka_streams_aggregate_dsl_events_per_s'] = dsl.eventsPerS;
  figures['kafka_streams_aggregate_dsl_late'] = dsl.droppedRecords;
  if (!('aggregate' in processors)) {
    options.say('our aggregate: not in processors/ yet, skipped');
    return figures;
  }
  options.say('aggregate: the same backlog, the same allowed lateness');
  const ours = await measureProcessor({
    name: 'aggregate',
    brokers: options.brokers,
    registryUrl: options.registryUrl,
    topicPrefix: 'bench-agg.',
    inputTopic: 'requests.enriched',
    records: backlog.records,
    workDir: options.workDir,
  });
  figures['aggregate_events_per_s'] = ours.eventsPerS;
  figures['aggregate_rss_steady_mb'] = ours.rssSteadyMb;
  figures['aggregate_cpu_us_per_event'] = ours.cpuUsPerEvent;
  // Late events are corrected, not dropped: counted per record as outcome late_event.
  figures['aggregate_late'] = (ours.metrics ?? [])
    .filter((s) => s.name === 'tributary_records_total' && s.labels['outcome'] === 'late_event')
    .reduce((sum, s) => sum + s.value, 0);
  figures['aggregate_ratio'] = ours.eventsPerS / options.passthrough.eventsPerS;
  figures['aggregate_vs_kafka_streams'] = ours.eventsPerS / peer.eventsPerS;
  figures['aggregate_cpu_vs_kafka_streams'] = peer.cpuUsPerEvent / ours.cpuUsPerEvent;
  return figures;
}
