package dev.tributary.bench.streams;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;

/**
 * Runs one Kafka Streams peer until SIGTERM, then prints one JSON summary line on stdout (the bench reads
 * it): records processed and the late records the windows dropped (the DSL's task metric
 * dropped-records-total, or PartitionWindows' own count).
 *
 * <pre>java -jar kafka-streams-peers.jar passthrough|aggregate|aggregate-dsl --brokers H:P --application-id ID
 *     --input TOPIC --output TOPIC --state-dir DIR [--grace-ms 60000] [--commit-interval-ms 100] [--threads 1]</pre>
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> options = parseOptions(args);
    String mode = args.length > 0 ? args[0] : "";
    String input = required(options, "input");
    String output = required(options, "output");
    Topology topology =
        switch (mode) {
          case "passthrough" -> PassThrough.topology(input, output);
          case "aggregate" -> PartitionWindows.topology(input, output, grace(options));
          case "aggregate-dsl" -> WindowedAggregate.topology(input, output, grace(options));
          default ->
              throw new IllegalArgumentException(
                  "mode must be passthrough, aggregate or aggregate-dsl, got '" + mode + "'");
        };
    KafkaStreams streams = new KafkaStreams(topology, streamsConfig(options));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  // Task metrics go with the tasks on close: read them first. Leaving the group lets the
                  // bench delete it at once instead of waiting out the session timeout.
                  String summary = summary(mode, streams);
                  streams.close(new KafkaStreams.CloseOptions().timeout(Duration.ofSeconds(30)).leaveGroup(true));
                  System.out.println(summary);
                  System.out.flush();
                  stopped.countDown();
                }));
    streams.setUncaughtExceptionHandler(
        e -> {
          e.printStackTrace();
          return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse
              .SHUTDOWN_APPLICATION;
        });
    streams.start();
    stopped.await();
  }

  static Duration grace(Map<String, String> options) {
    return Duration.ofMillis(Long.parseLong(options.getOrDefault("grace-ms", "60000")));
  }

  static Properties streamsConfig(Map<String, String> options) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, required(options, "application-id"));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, required(options, "brokers"));
    props.put(StreamsConfig.STATE_DIR_CONFIG, required(options, "state-dir"));
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, options.getOrDefault("commit-interval-ms", "100"));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, options.getOrDefault("threads", "1"));
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, "1");
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    // Static membership, so close(leaveGroup) removes the member at once (Kafka Streams' dynamic members
    // never leave on close) and the bench can delete the group without waiting out the session timeout.
    props.put(
        StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG),
        required(options, "application-id") + "-instance");
    // Our processors' transaction.timeout.ms (Kafka Streams' EOS default is 10 s, which a busy shared
    // machine exceeds: the coordinator then aborts and fences the thread, and the run stalls on rebalances).
    props.put(
        StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG),
        options.getOrDefault("transaction-timeout-ms", "30000"));
    return props;
  }

  /** records processed (task metric process-total summed) and late records dropped, as one JSON line. */
  static String summary(String mode, KafkaStreams streams) {
    double processed = 0;
    double dropped = 0;
    for (Map.Entry<MetricName, ? extends Metric> e : streams.metrics().entrySet()) {
      MetricName name = e.getKey();
      if (!name.group().equals("stream-task-metrics")) continue;
      if (!(e.getValue().metricValue() instanceof Double value) || value.isNaN()) continue;
      if (name.name().equals("dropped-records-total")) dropped += value;
      if (name.name().equals("process-total")) processed += value;
    }
    dropped += PartitionWindows.LATE.get();
    return String.format(
        "{\"kafka_streams_summary\":true,\"mode\":\"%s\",\"processed\":%d,\"dropped_records\":%d}",
        mode, (long) processed, (long) dropped);
  }

  static Map<String, String> parseOptions(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (int i = 1; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) throw new IllegalArgumentException("expected --name value, got " + args[i]);
      options.put(args[i].substring(2), args[i + 1]);
    }
    return options;
  }

  static String required(Map<String, String> options, String name) {
    String value = options.get(name);
    if (value == null) throw new IllegalArgumentException("--" + name + " is required");
    return value;
  }
}
