package dev.tributary.bench.streams;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The same one-minute windows as WindowedAggregate, without the repartition: the input is keyed by
 * service, so every (service, endpoint, region) already lives in one partition, and a processor keeps its
 * windows in a changelogged, cached RocksDB store keyed by (window start, group key). A window closes when
 * the partition's stream time passes its end plus the grace; a record for a closed window is counted late
 * and dropped. This is what our aggregate does (partition-local state, no extra topic), so it is the
 * like-for-like peer; the DSL version shows what an idiomatic Kafka Streams app pays for re-keying.
 */
final class PartitionWindows {
  static final AtomicLong LATE = new AtomicLong();
  private static final String STORE = "open-windows";
  private static final long MINUTE_MS = 60_000;

  private PartitionWindows() {}

  static Topology topology(String input, String output, Duration grace) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(
        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.Bytes(), WindowStats.serde())
            .withCachingEnabled());
    builder
        .stream(
            input,
            Consumed.with(Serdes.String(), Serdes.ByteArray())
                .withTimestampExtractor(new EnrichedRequests.EventTimeExtractor()))
        .process(() -> new WindowProcessor(grace.toMillis()), Named.as("windows"), STORE)
        .to(output, Produced.with(Serdes.String(), Serdes.ByteArray()));
    return builder.build();
  }

  /** Store key: window start (big-endian, so keys sort by it) then the UTF-8 group key (never 0xFF). */
  static Bytes storeKey(long windowStart, String groupKey) {
    byte[] group = groupKey.getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(ByteBuffer.allocate(8 + group.length).putLong(windowStart).put(group).array());
  }

  static final class WindowProcessor implements Processor<String, byte[], String, byte[]> {
    private final long graceMs;
    private ProcessorContext<String, byte[]> context;
    private KeyValueStore<Bytes, WindowStats> store;
    private long streamTime = Long.MIN_VALUE;
    /** Windows starting at or before this were closed and emitted. */
    private long closedThrough = Long.MIN_VALUE;

    WindowProcessor(long graceMs) {
      this.graceMs = graceMs;
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
      this.context = context;
      this.store = context.getStateStore(STORE);
    }

    @Override
    public void process(Record<String, byte[]> record) {
      long ts = record.timestamp();
      streamTime = Math.max(streamTime, ts);
      long windowStart = ts - Math.floorMod(ts, MINUTE_MS);
      if (windowStart + MINUTE_MS + graceMs <= streamTime) {
        LATE.incrementAndGet();
      } else {
        GenericRecord r = EnrichedRequests.decode(record.value());
        Bytes key = storeKey(windowStart, Request.groupKey(r));
        WindowStats stats = store.get(key);
        store.put(key, (stats == null ? new WindowStats() : stats).add(Request.of(r)));
      }
      closeThrough(streamTime - graceMs - MINUTE_MS);
    }

    /** Emits and forgets every window whose start is at or before `bound` (its end + grace has passed). */
    private void closeThrough(long bound) {
      long lastStart = bound - Math.floorMod(bound, MINUTE_MS);
      if (lastStart <= closedThrough) return;
      closedThrough = lastStart;
      Bytes to = Bytes.wrap(ByteBuffer.allocate(9).putLong(lastStart).put((byte) 0xFF).array());
      List<Bytes> closed = new ArrayList<>();
      try (KeyValueIterator<Bytes, WindowStats> it = store.range(Bytes.wrap(new byte[8]), to)) {
        while (it.hasNext()) {
          KeyValue<Bytes, WindowStats> window = it.next();
          ByteBuffer key = ByteBuffer.wrap(window.key.get());
          long start = key.getLong();
          String groupKey = new String(key.array(), 8, key.remaining(), StandardCharsets.UTF_8);
          byte[] row = WindowedAggregate.encode(groupKey, start, start + MINUTE_MS, window.value);
          context.forward(new Record<>(WindowedAggregate.service(groupKey), row, start + MINUTE_MS));
          closed.add(window.key);
        }
      }
      for (Bytes key : closed) store.delete(key);
    }
  }
}
