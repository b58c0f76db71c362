// Runs one copy of a processor's transaction loop inside the test process, against a real broker, so a
// test can reach into its clients (a consumer whose consume spans a rebalance, a producer whose commit
// meets a stopped broker) while everything else is the production loop.
import { createLogger } from '../observability/index.ts';
import { ProcessorMetrics } from '../app/processor/processor-metrics.ts';
import { InputConsumer, TransactionalProducer, groupClientSettings } from '../kafka/index.ts';
import type { AnyProcessorDefinition } from '../app/processor/definition.ts';
import { buildCodecs } from '../app/processor/codecs.ts';
import { changelogTopicFor, topicResolver } from '../app/processor/processor-topics.ts';
import { loadProcessorConfig } from '../app/processor/run-processor.ts';
import type { ConsumerSettings, TransactionalProducerOptions } from '../kafka/index.ts';
import { TransactionLoop } from '../app/processor/transaction-loop.ts';
import type { TransactionLoopDeps } from '../app/processor/transaction-loop.ts';
import { InMemorySchemaRegistry } from './in-memory-schema-registry.ts';

export interface LoopCopyOptions {
  brokers: string;
  prefix: string;
  instanceId: string;
  definition: AnyProcessorDefinition;
  maxBatchRecords?: number;
  sessionTimeoutMs?: number;
  /** Replace a client (e.g. a subclass that injects a fault); built from the same settings otherwise. */
  consumer?: (settings: ConsumerSettings) => InputConsumer;
  producer?: (
    settings: ConstructorParameters<typeof TransactionalProducer>[0],
    options: TransactionalProducerOptions,
  ) => TransactionalProducer;
  loop?: Partial<Pick<TransactionLoopDeps, 'rewindGiveUpMs' | 'stallMs'>>;
}

export interface LoopCopy {
  /** The topic prefix it runs under. */
  prefix: string;
  loop: TransactionLoop;
  consumer: InputConsumer;
  producer: TransactionalProducer;
  metrics: ProcessorMetrics;
  /** Settles when run() returns or throws. */
  finished: Promise<void>;
  /** Stops the loop after the batch in hand and closes both clients; rethrows what run() threw. */
  stop(): Promise<void>;
}

export async function startLoopCopy(options: LoopCopyOptions): Promise<LoopCopy> {
  const { definition, prefix } = options;
  const config = loadProcessorConfig(definition, {
    env: {},
    overrides: {
      kafkaBrokers: options.brokers,
      topicPrefix: prefix,
      instanceId: options.instanceId,
      maxBatchRecords: options.maxBatchRecords ?? 200,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      logLevel: process.env.TRIBUTARY_TEST_LOG_LEVEL ?? 'warn',
    },
  });
  const log = createLogger({ name: definition.name, level: config.logLevel }).child({
    instance: options.instanceId,
  });
  const settings = groupClientSettings({
    brokers: config.kafkaBrokers,
    group: prefix + definition.name,
    instanceId: options.instanceId,
    sessionTimeoutMs: config.sessionTimeoutMs,
    transactionTimeoutMs: config.transactionTimeoutMs,
    log,
  });
  const consumer = (options.consumer ?? ((s) => new InputConsumer(s)))(settings.consumer);
  const producer = (options.producer ?? ((s, o) => new TransactionalProducer(s, o)))(
    settings.producer,
    settings.producerOptions,
  );
  const topicFor = topicResolver(definition, prefix);
  const { codecs, prepareInput } = await buildCodecs(
    definition,
    new InMemorySchemaRegistry(),
    { topicFor, changelogTopicFor: changelogTopicFor(definition, prefix) },
    log,
  );
  await producer.connect();
  await consumer.connect([prefix + definition.input.topic], config.maxBatchWaitMs);
  const metrics = new ProcessorMetrics(definition.name);
  const loop = new TransactionLoop({
    definition,
    consumer,
    producer,
    metrics,
    log,
    maxBatchRecords: config.maxBatchRecords,
    prepareInput,
    env: { config, log, codecs, topicFor, now: Date.now },
    ...options.loop,
  });
  const finished = loop.run();
  finished.catch(() => undefined); // observed through stop() or by the test
  return {
    prefix,
    loop,
    consumer,
    producer,
    metrics,
    finished,
    stop: async () => {
      loop.stop();
      try {
        await finished;
      } finally {
        await consumer.disconnect().catch(() => undefined);
        await producer.disconnect().catch(() => undefined);
      }
    },
  };
}

/** Transactions this copy committed so far. */
export async function committedTransactions(copy: LoopCopy): Promise<number> {
  const counter = await copy.metrics.transactions.get();
  return counter.values.find((v) => v.labels.outcome === 'committed')?.value ?? 0;
}

/** Input records this copy consumed in committed transactions so far (no broker round trip). */
export async function committedRecords(copy: LoopCopy): Promise<number> {
  const counter = await copy.metrics.records.get();
  return counter.values.filter((v) => v.labels.outcome === 'consumed').reduce((sum, v) => sum + v.value, 0);
}
