// Copies of the ClickHouse sink run in the test process, for resume tests against the real broker,
// registry and embedded ClickHouse: each copy has its own group clients and sink loop over one shared
// ClickHouse client; a test may wrap the connector to stop a copy at a chosen point (a crash).
import { InputConsumer, TransactionalProducer, groupClientSettings } from '../../../runtime/kafka/index.ts';
import type { ConsumerSettings, TransactionalProducerOptions } from '../../../runtime/kafka/index.ts';
import { boundTopics } from '../../../runtime/app/sink/run-sink.ts';
import { buildSinkCodecs } from '../../../runtime/app/sink/sink-codecs.ts';
import { SinkLoop } from '../../../runtime/app/sink/sink-loop.ts';
import { SinkMetrics } from '../../../runtime/app/sink/sink-metrics.ts';
import type { SinkConnector } from '../../../runtime/index.ts';
import { createLogger } from '../../../runtime/index.ts';
import { HttpSchemaRegistry } from '../../../runtime/serde/index.ts';
import { clickhouseSink } from '../clickhouse-sink.ts';
import type { ClickHouseHandle } from '../connection.ts';
import { ClickHouseConnector } from '../connector.ts';
import { describeTable } from '../tables.ts';

export interface SinkCopySettings {
  brokers: string;
  registryUrl: string;
  prefix: string;
  handle: ClickHouseHandle;
  instanceId: string;
  insertLeaseMs?: number;
  /** As the sink runs embedded (one process): one insert per target. Only for a test's only copy. */
  singleWriter?: boolean;
  maxBatchRows?: number;
  /** Wraps the real connector, e.g. to crash after part of an insert landed. */
  wrap?: (connector: SinkConnector) => SinkConnector;
  /** Replaces the consumer (e.g. a subclass that stops the broker at a chosen call). */
  consumer?: (settings: ConsumerSettings) => InputConsumer;
  sessionTimeoutMs?: number;
  transactionTimeoutMs?: number;
  /** Replaces the producer (e.g. a subclass that holds a commit past the transaction timeout). */
  producer?: (
    settings: ConstructorParameters<typeof TransactionalProducer>[0],
    options: TransactionalProducerOptions,
  ) => TransactionalProducer;
}

export interface SinkCopy {
  loop: SinkLoop;
  consumer: InputConsumer;
  /** Settles when the loop stops: resolves on stop(), rejects on a crash. */
  running: Promise<void>;
  /** Stops the loop (flushing and committing what is pending) and closes the clients. */
  stop(): Promise<void>;
  /** Closes the clients without committing anything more (after a crash). */
  close(): Promise<void>;
}

export async function startSinkCopy(settings: SinkCopySettings): Promise<SinkCopy> {
  const log = createLogger({
    name: `sink-${settings.instanceId}`,
    level: process.env.TRIBUTARY_TEST_LOG_LEVEL ?? 'warn',
    pretty: false,
  });
  const bound = boundTopics(clickhouseSink, settings.prefix);
  const deadLetterTopics = [...new Set([...bound.values()].map((b) => b.deadLetterTopic))];
  const codecs = await buildSinkCodecs(
    [...bound].map(([physicalTopic, { binding }]) => ({ physicalTopic, binding })),
    deadLetterTopics,
    new HttpSchemaRegistry(settings.registryUrl),
    log,
  );
  const tables = new Map();
  for (const target of new Set(clickhouseSink.bindings.map((b) => b.target)))
    tables.set(target, await describeTable(settings.handle.client, 'default', target));
  const real = new ClickHouseConnector(settings.handle.client, tables, () => Promise.resolve(), {
    insertLeaseMs: settings.insertLeaseMs ?? 0,
    singleWriter: settings.singleWriter ?? false,
  });
  const clients = groupClientSettings({
    brokers: settings.brokers,
    group: `${settings.prefix}clickhouse-sink`,
    instanceId: settings.instanceId,
    sessionTimeoutMs: settings.sessionTimeoutMs ?? 10_000,
    transactionTimeoutMs: settings.transactionTimeoutMs ?? 60_000,
    log,
  });
  const consumer = (settings.consumer ?? ((s) => new InputConsumer(s)))(clients.consumer);
  const producer = (settings.producer ?? ((s, o) => new TransactionalProducer(s, o)))(
    clients.producer,
    clients.producerOptions,
  );
  await producer.connect();
  await consumer.connect([...bound.keys()], 100);
  const metrics = new SinkMetrics('clickhouse-sink');
  const loop = new SinkLoop({
    name: 'clickhouse-sink',
    writer: `${settings.instanceId}#test`,
    consumer,
    producer,
    connector: settings.wrap?.(real) ?? real,
    codecs,
    bound,
    metrics,
    log,
    limits: {
      maxBatchRows: settings.maxBatchRows ?? 5000,
      maxBatchBytes: 32 * 1024 * 1024,
      flushIntervalMs: 300,
      maxRetryBackoffMs: 500,
      maxMessageBytes: 1_000_000,
    },
  });
  const running = loop.run();
  // A copy that stops on an error says so at once, not when a test finally awaits it.
  running.catch((error: unknown) => {
    console.error(`sink copy ${settings.instanceId} stopped:`, error);
  });
  const close = async (): Promise<void> => {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
  };
  return {
    loop,
    consumer,
    running,
    close,
    stop: async () => {
      loop.stop();
      await running;
      await close();
    },
  };
}

/** A connector that forwards everything to `inner` except what `overrides` replaces. */
export function wrapConnector(inner: SinkConnector, overrides: Partial<SinkConnector>): SinkConnector {
  return new Proxy(inner, {
    get(target, property, receiver) {
      const override = (overrides as Record<string | symbol, unknown>)[property];
      if (override !== undefined) return override;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
