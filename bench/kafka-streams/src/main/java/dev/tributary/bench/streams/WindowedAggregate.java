package dev.tributary.bench.streams;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.WindowStore;

/**
 * requests.enriched → one-minute tumbling event-time windows per (service, endpoint, region), emitted
 * once on close (EmitStrategy.onWindowClose) as StatsMinute Avro, revision 0. Records later than the
 * grace are dropped by Kafka Streams and counted in the task metric dropped-records-total. Re-keying by
 * (service, endpoint, region) makes the DSL repartition through an internal topic, as any Kafka Streams
 * app grouping by a new key does (the input is keyed by service only).
 */
final class WindowedAggregate {
  static final Schema STATS_MINUTE = EnrichedRequests.schema("stats-minute.avsc");
  private static final ThreadLocal<GenericDatumWriter<GenericRecord>> WRITER =
      ThreadLocal.withInitial(() -> new GenericDatumWriter<>(STATS_MINUTE));
  private static final ThreadLocal<BinaryEncoder> ENCODER = new ThreadLocal<>();

  private WindowedAggregate() {}

  static Topology topology(String input, String output, Duration grace) {
    StreamsBuilder builder = new StreamsBuilder();
    builder
        .stream(
            input,
            Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())
                .withTimestampExtractor(new EnrichedRequests.EventTimeExtractor()))
        .map(
            (key, value) -> {
              GenericRecord r = EnrichedRequests.decode(value);
              return KeyValue.pair(Request.groupKey(r), Request.of(r));
            },
            Named.as("decode-and-key"))
        .groupByKey(Grouped.with("by-service-endpoint-region", Serdes.String(), Request.serde()))
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMinutes(1), grace))
        .emitStrategy(EmitStrategy.onWindowClose())
        .aggregate(
            WindowStats::new,
            (key, request, stats) -> stats.add(request),
            Materialized.<String, WindowStats, WindowStore<Bytes, byte[]>>as("window-stats")
                .withKeySerde(Serdes.String())
                .withValueSerde(WindowStats.serde()))
        .toStream(Named.as("closed-windows"))
        .map((window, stats) -> KeyValue.pair(service(window.key()), encode(window.key(), window.window().start(), window.window().end(), stats)))
        .to(output, Produced.with(Serdes.String(), Serdes.ByteArray()));
    return builder.build();
  }

  static String service(String groupKey) {
    return groupKey.substring(0, groupKey.indexOf('\u0000'));
  }

  static byte[] encode(String groupKey, long windowStart, long windowEnd, WindowStats s) {
    String[] group = groupKey.split("\u0000", 3);
    GenericRecord r = new GenericData.Record(STATS_MINUTE);
    r.put("service", group[0]);
    r.put("endpoint", group[1]);
    r.put("region", group[2]);
    r.put("window_start", windowStart);
    r.put("window_end", windowEnd);
    r.put("revision", 0);
    r.put("requests", s.requests);
    String[] classes = {"status_1xx", "status_2xx", "status_3xx", "status_4xx", "status_5xx"};
    for (int i = 0; i < 5; i++) r.put(classes[i], s.statusClass[i]);
    r.put("latency_count", s.requests);
    r.put("latency_sum_ms", s.latencySumMs);
    r.put("latency_min_ms", s.latencyMinMs);
    r.put("latency_max_ms", s.latencyMaxMs);
    r.put("bytes_out", s.bytesOut);
    r.put("sketch_relative_accuracy", WindowStats.RELATIVE_ACCURACY);
    r.put("sketch_zero_count", s.zeroCount);
    r.put("sketch_bucket_index", new ArrayList<>(s.buckets.keySet()));
    r.put("sketch_bucket_count", new ArrayList<>(s.buckets.values()));
    // Kafka Streams emits each key's window on its own: it cannot say how many rows the service has.
    r.put("service_rows", 0);
    r.put("team", s.team.isEmpty() ? null : s.team);
    r.put("tier", s.tier < 0 ? null : s.tier);
    r.put("latency_slo_ms", s.latencySloMs < 0 ? null : s.latencySloMs);
    r.put("availability_slo", Double.isNaN(s.availabilitySlo) ? null : s.availabilitySlo);
    return wire(r);
  }

  /** Confluent wire format with schema id 0: nothing in the bench decodes the peer's output by id. */
  private static byte[] wire(GenericRecord r) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    out.write(0);
    out.writeBytes(new byte[] {0, 0, 0, 0});
    try {
      BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, ENCODER.get());
      ENCODER.set(encoder);
      WRITER.get().write(r, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
