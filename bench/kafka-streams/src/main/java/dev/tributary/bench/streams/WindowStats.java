package dev.tributary.bench.streams;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * One window's accumulator, the same fields as StatsMinute: counts, status classes, latency sum/min/max,
 * bytes, and a latency bucket map with the schema's DDSketch mapping (relative accuracy 0.01, bucket
 * index ceil(log_gamma(x))). Mutable: Kafka Streams hands it back deserialised for every record.
 */
final class WindowStats {
  static final double RELATIVE_ACCURACY = 0.01;
  static final double GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
  static final double LOG_GAMMA = Math.log(GAMMA);
  /** Below this a latency is counted in the zero bucket (the loadgen's smallest latency is 0.25 ms). */
  static final double MIN_INDEXABLE_MS = 1e-9;

  long requests;
  final long[] statusClass = new long[5]; // 1xx .. 5xx
  double latencySumMs;
  double latencyMinMs = Double.POSITIVE_INFINITY;
  double latencyMaxMs = Double.NEGATIVE_INFINITY;
  long bytesOut;
  long zeroCount;
  final TreeMap<Integer, Long> buckets = new TreeMap<>();
  int tier = -1;
  int latencySloMs = -1;
  double availabilitySlo = Double.NaN;
  String team = "";

  WindowStats add(Request r) {
    requests++;
    int statusClassIndex = r.status() / 100 - 1;
    if (statusClassIndex >= 0 && statusClassIndex < 5) statusClass[statusClassIndex]++;
    latencySumMs += r.latencyMs();
    latencyMinMs = Math.min(latencyMinMs, r.latencyMs());
    latencyMaxMs = Math.max(latencyMaxMs, r.latencyMs());
    bytesOut += r.bytesOut();
    if (r.latencyMs() < MIN_INDEXABLE_MS) zeroCount++;
    else buckets.merge((int) Math.ceil(Math.log(r.latencyMs()) / LOG_GAMMA), 1L, Long::sum);
    tier = r.tier();
    latencySloMs = r.latencySloMs();
    availabilitySlo = r.availabilitySlo();
    team = r.team();
    return this;
  }

  static Serde<WindowStats> serde() {
    return Serdes.serdeFrom(WindowStats::serialize, WindowStats::deserialize);
  }

  private static byte[] serialize(String topic, WindowStats s) {
    byte[] team = s.team.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(112 + team.length + 12 * s.buckets.size());
    b.putLong(s.requests);
    for (long c : s.statusClass) b.putLong(c);
    b.putDouble(s.latencySumMs).putDouble(s.latencyMinMs).putDouble(s.latencyMaxMs);
    b.putLong(s.bytesOut).putLong(s.zeroCount);
    b.putInt(s.tier).putInt(s.latencySloMs).putDouble(s.availabilitySlo);
    b.putInt(team.length).put(team);
    b.putInt(s.buckets.size());
    for (Map.Entry<Integer, Long> e : s.buckets.entrySet()) b.putInt(e.getKey()).putLong(e.getValue());
    return b.array();
  }

  private static WindowStats deserialize(String topic, byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    WindowStats s = new WindowStats();
    s.requests = b.getLong();
    for (int i = 0; i < 5; i++) s.statusClass[i] = b.getLong();
    s.latencySumMs = b.getDouble();
    s.latencyMinMs = b.getDouble();
    s.latencyMaxMs = b.getDouble();
    s.bytesOut = b.getLong();
    s.zeroCount = b.getLong();
    s.tier = b.getInt();
    s.latencySloMs = b.getInt();
    s.availabilitySlo = b.getDouble();
    byte[] team = new byte[b.getInt()];
    b.get(team);
    s.team = new String(team, StandardCharsets.UTF_8);
    for (int n = b.getInt(); n > 0; n--) s.buckets.put(b.getInt(), b.getLong());
    return s;
  }
}
