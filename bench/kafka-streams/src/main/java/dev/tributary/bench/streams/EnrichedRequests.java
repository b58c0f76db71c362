package dev.tributary.bench.streams;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Reads requests.enriched values: the Confluent wire format (magic byte, 4-byte schema id) followed by
 * EnrichedRequest Avro binary, read with the writer schema from schemas/enriched-request.avsc. Decoders
 * and records are reused per thread, as a tuned Kafka Streams app would.
 */
final class EnrichedRequests {
  static final int WIRE_HEADER_BYTES = 5;
  static final Schema SCHEMA = schema("enriched-request.avsc");

  private static final ThreadLocal<BinaryDecoder> DECODER = new ThreadLocal<>();
  private static final ThreadLocal<GenericDatumReader<GenericRecord>> READER =
      ThreadLocal.withInitial(() -> new GenericDatumReader<>(SCHEMA));
  private static final ThreadLocal<GenericRecord> RECORD = new ThreadLocal<>();

  private EnrichedRequests() {}

  static Schema schema(String file) {
    try (InputStream in = EnrichedRequests.class.getResourceAsStream("/schemas/" + file)) {
      if (in == null) throw new IllegalStateException("schemas/" + file + " is not in the jar");
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static BinaryDecoder decoder(byte[] value) {
    BinaryDecoder decoder =
        DecoderFactory.get()
            .binaryDecoder(value, WIRE_HEADER_BYTES, value.length - WIRE_HEADER_BYTES, DECODER.get());
    DECODER.set(decoder);
    return decoder;
  }

  /** The whole record (reused: read it before the next call on this thread). */
  static GenericRecord decode(byte[] value) {
    try {
      GenericRecord record = READER.get().read(RECORD.get(), decoder(value));
      RECORD.set(record);
      return record;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Event time: `ts` is the second field, after `event_id`, so only that string is skipped. */
  static long eventTime(byte[] value) throws IOException {
    BinaryDecoder decoder = decoder(value);
    decoder.skipString();
    return decoder.readLong();
  }

  /** Windows run on the event's `ts`, not the Kafka timestamp; an undecodable record gets -1 (dropped). */
  static final class EventTimeExtractor implements TimestampExtractor {
    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
      if (!(record.value() instanceof byte[] value) || value.length <= WIRE_HEADER_BYTES) return -1;
      try {
        return eventTime(value);
      } catch (IOException | RuntimeException e) {
        return -1;
      }
    }
  }
}
