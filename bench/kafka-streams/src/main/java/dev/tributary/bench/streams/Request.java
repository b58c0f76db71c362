package dev.tributary.bench.streams;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.util.Utf8;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * What a window needs of one EnrichedRequest, in a compact binary form for the repartition topic: status,
 * latency, bytes, and the service's reference fields (null as -1 / NaN / empty).
 */
record Request(int status, double latencyMs, long bytesOut, int tier, int latencySloMs, double availabilitySlo, String team) {
  static Request of(GenericRecord r) {
    return new Request(
        (Integer) r.get("status"),
        (Double) r.get("latency_ms"),
        (Long) r.get("bytes_out"),
        r.get("tier") instanceof Integer t ? t : -1,
        r.get("latency_slo_ms") instanceof Integer s ? s : -1,
        r.get("availability_slo") instanceof Double a ? a : Double.NaN,
        r.get("team") instanceof Utf8 || r.get("team") instanceof String ? r.get("team").toString() : "");
  }

  /** The window's group key: service, endpoint and region joined by NUL (none of them holds one). */
  static String groupKey(GenericRecord r) {
    return r.get("service") + "\u0000" + r.get("endpoint") + "\u0000" + r.get("region");
  }

  static Serde<Request> serde() {
    Serializer<Request> serializer =
        (topic, q) -> {
          byte[] team = q.team.getBytes(StandardCharsets.UTF_8);
          return ByteBuffer.allocate(36 + team.length)
              .putInt(q.status)
              .putDouble(q.latencyMs)
              .putLong(q.bytesOut)
              .putInt(q.tier)
              .putInt(q.latencySloMs)
              .putDouble(q.availabilitySlo)
              .put(team)
              .array();
        };
    Deserializer<Request> deserializer =
        (topic, bytes) -> {
          ByteBuffer b = ByteBuffer.wrap(bytes);
          return new Request(
              b.getInt(), b.getDouble(), b.getLong(), b.getInt(), b.getInt(), b.getDouble(),
              new String(bytes, 36, bytes.length - 36, StandardCharsets.UTF_8));
        };
    return Serdes.serdeFrom(serializer, deserializer);
  }
}
