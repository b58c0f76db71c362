// Runs one copy of a processor as an OS process: config, logging, health, topics, schemas, clients,
// the transaction loop, signals and a bounded clean shutdown.
import { z } from 'zod';
import { ConfigError, describeError, isTributaryError } from '../errors.ts';
import type { ProcessorConfig } from './definition.ts';
import type { AnyProcessorDefinition } from './definition.ts';
import { loadConfig, redactConfig, runtimeConfigShape } from '../config/index.ts';
import type { ConfigSource } from '../config/index.ts';
import { createLogger, ProcessorMetrics, startHealthServer } from '../observability/index.ts';
import type { HealthServer, HealthStatus, Logger } from '../observability/index.ts';
import {
  InputConsumer,
  TransactionalProducer,
  ensureTopics,
  partitionCount,
  readPartitionsToEnd,
  withAdmin,
} from '../kafka/index.ts';
import { CHANGELOG_RETENTION_MS, StateManager } from '../state/index.ts';
import type { ChangelogReader, StoreDeclaration } from '../state/index.ts';
import type { TopicSpec } from '../kafka/index.ts';
import { buildCodecs } from './codecs.ts';
import { HttpSchemaRegistry } from '../serde/index.ts';
import { DEAD_LETTER_OUTPUT } from './batch.ts';
import { TransactionLoop } from './transaction-loop.ts';
import { claimInstanceSlot } from './instance-slot.ts';
import type { InstanceSlot } from './instance-slot.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_CONFIG = 2;
export const EXIT_FENCED = 3;

type Config = ProcessorConfig<Record<string, z.ZodType>>;

/** Parses the processor's config (runtime keys + its own); on error prints what to fix and exits 2. */
export function loadProcessorConfig(definition: AnyProcessorDefinition, source?: ConfigSource): Config {
  const schema = z.object({ ...runtimeConfigShape, ...(definition.config as Record<string, z.ZodType>) });
  return loadConfig(definition.name, schema, source);
}

/** Physical topic names: the logical names of the definition behind the configured prefix. */
export function topicResolver(
  definition: AnyProcessorDefinition,
  prefix: string,
): (output: string) => string {
  const resolved = new Map<string, string>();
  return (output: string) => {
    const cached = resolved.get(output);
    if (cached !== undefined) return cached;
    const topic = resolve(output);
    resolved.set(output, topic);
    return topic;
  };
  function resolve(output: string): string {
    if (output === DEAD_LETTER_OUTPUT) {
      if (definition.deadLetter === undefined) throw new Error(`${definition.name} has no dead-letter topic`);
      return prefix + definition.deadLetter.topic;
    }
    const declared = (definition.outputs as Record<string, { topic: string } | undefined>)[output];
    if (declared === undefined) throw new Error(`${definition.name} has no output "${output}"`);
    return prefix + declared.topic;
  }
}

function topicSpecs(definition: AnyProcessorDefinition, config: Config): TopicSpec[] {
  type Declared = {
    topic: string;
    partitions?: number;
    cleanupPolicy?: 'delete' | 'compact';
    retentionMs?: number;
  };
  const declared: Declared[] = [
    definition.input as Declared,
    ...Object.values(definition.outputs as Record<string, Declared>),
  ];
  if (definition.deadLetter !== undefined) declared.push(definition.deadLetter);
  return declared.map((d) => {
    const spec: TopicSpec = {
      name: config.topicPrefix + d.topic,
      partitions: d.partitions ?? config.defaultPartitions,
      cleanupPolicy: d.cleanupPolicy ?? 'delete',
    };
    if (d.retentionMs !== undefined) spec.retentionMs = d.retentionMs;
    return spec;
  });
}

export async function runProcessor(
  definition: AnyProcessorDefinition,
  source?: ConfigSource,
): Promise<never> {
  let config: Config;
  try {
    config = loadProcessorConfig(definition, source);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(EXIT_BAD_CONFIG);
  }
  const log = createLogger({ name: definition.name, level: config.logLevel });
  process.on('uncaughtException', (error) => {
    log.fatal({ err: error }, 'uncaught exception');
    process.exit(EXIT_FAILED);
  });
  process.on('unhandledRejection', (error) => {
    log.fatal({ err: error }, 'unhandled rejection');
    process.exit(EXIT_FAILED);
  });
  const code = await runWithConfig(definition, config, log);
  process.exit(code);
}

async function runWithConfig(
  definition: AnyProcessorDefinition,
  config: Config,
  log: Logger,
): Promise<number> {
  const group = config.topicPrefix + definition.name;
  let slot: InstanceSlot | undefined;
  const instanceId = config.instanceId ?? (slot = claimInstanceSlot(config.stateDir, group)).id;
  const processLog = log.child({ instance: instanceId });
  processLog.info({ config: redactConfig(config) }, `starting ${definition.name}`);

  const metrics = new ProcessorMetrics(definition.name);
  const consumer = new InputConsumer({
    brokers: config.kafkaBrokers,
    groupId: group,
    clientId: `${group}-${instanceId}`,
    sessionTimeoutMs: config.sessionTimeoutMs,
  });
  const producer = new TransactionalProducer({
    brokers: config.kafkaBrokers,
    clientId: `${group}-${instanceId}`,
    transactionalId: `${group}-${instanceId}`,
    transactionTimeoutMs: config.transactionTimeoutMs,
  });
  let loop: TransactionLoop | undefined;
  let state: StateManager | undefined;
  let health: HealthServer | undefined;
  let exitCode = EXIT_OK;
  let shutdownTimer: NodeJS.Timeout | undefined;
  const onSignal = (signal: string): void => {
    processLog.info({ signal }, 'stopping: finishing the batch in hand, then closing clients');
    if (loop === undefined) process.exit(EXIT_OK);
    loop.stop();
    shutdownTimer ??= setTimeout(() => {
      processLog.error(
        { timeoutMs: config.shutdownTimeoutMs },
        'clean shutdown took too long; exiting without it',
      );
      process.exit(EXIT_FAILED);
    }, config.shutdownTimeoutMs).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    health = await startHealthServer(config.httpHost, config.httpPort, {
      metrics: metrics.registry,
      live: () => liveness(loop),
      ready: () => readiness(consumer, loop, state, config.readyMaxLag, metrics),
    });
    processLog.info({ port: health.port }, `health and metrics on http://${config.httpHost}:${health.port}`);
    const topicFor = topicResolver(definition, config.topicPrefix);
    const storeNames = Object.keys((definition.stores ?? {}) as object);
    const changelogFor = (store: string): string => `${group}.${store}.changelog`;
    const inputTopic = config.topicPrefix + definition.input.topic;
    const drift = await withAdmin(config.kafkaBrokers, async (admin) => {
      const found = await ensureTopics(admin, topicSpecs(definition, config));
      // Changelog partition p holds the state of input partition p, so the counts must match.
      const partitions = await partitionCount(admin, inputTopic);
      const declared = definition.stores as Record<string, StoreDeclaration<unknown>>;
      const changelogs = storeNames.map((store) =>
        changelogSpec(changelogFor(store), partitions, declared[store]),
      );
      return [...found, ...(await ensureTopics(admin, changelogs))];
    });
    for (const d of drift) processLog.warn(d, `topic ${d.topic} differs from its declaration: ${d.problem}`);
    const readChangelog: ChangelogReader = (topic, partitions, onRecord) =>
      readPartitionsToEnd({ brokers: config.kafkaBrokers, topic, partitions, timeoutMs: 600_000 }, (m) =>
        onRecord(m.partition, toBuffer(m.key), m.value),
      );
    state =
      storeNames.length === 0
        ? undefined
        : new StateManager(
            definition.stores as Record<string, StoreDeclaration<unknown>>,
            changelogFor,
            readChangelog,
            processLog,
            config,
          );
    const registry = new HttpSchemaRegistry(config.registryUrl);
    const { codecs, prepareInput } = await buildCodecs(definition, registry, topicFor, processLog);
    await producer.connect();
    consumer.onLag((lag) => {
      metrics.consumerLag.reset();
      for (const [key, value] of lag) {
        const cut = key.lastIndexOf('/');
        metrics.consumerLag.set({ topic: key.slice(0, cut), partition: key.slice(cut + 1) }, value);
      }
    });
    await consumer.connect([inputTopic], config.maxBatchWaitMs);
    loop = new TransactionLoop({
      definition,
      consumer,
      producer,
      metrics,
      log: processLog,
      maxBatchRecords: config.maxBatchRecords,
      prepareInput,
      env: {
        config,
        log: processLog,
        codecs,
        topicFor,
        now: Date.now,
        ...(state === undefined ? {} : { state }),
      },
    });
    await loop.run();
    processLog.info('loop stopped cleanly');
  } catch (error) {
    exitCode = isTributaryError(error) && error.code === 'TRIBUTARY_KAFKA_FENCED' ? EXIT_FENCED : EXIT_FAILED;
    const message =
      exitCode === EXIT_FENCED
        ? 'fenced: another copy took over this transactional id; stopping'
        : `stopping on error: ${describeError(error)}`;
    processLog.error({ err: error }, message);
  } finally {
    await closeQuietly(processLog, 'consumer', () => consumer.disconnect());
    await closeQuietly(processLog, 'producer', () => producer.disconnect());
    if (health !== undefined) await closeQuietly(processLog, 'health server', health.close);
    slot?.release();
    if (shutdownTimer !== undefined) clearTimeout(shutdownTimer);
  }
  processLog.info({ exitCode }, 'stopped');
  return exitCode;
}

function changelogSpec(
  name: string,
  partitions: number,
  declaration: StoreDeclaration<unknown> | undefined,
): TopicSpec {
  if (declaration?.localExpiry !== true) return { name, partitions, cleanupPolicy: 'compact' };
  return {
    name,
    partitions,
    cleanupPolicy: 'compact,delete',
    retentionMs: CHANGELOG_RETENTION_MS,
    segmentMs: CHANGELOG_RETENTION_MS / 4,
  };
}

function toBuffer(key: string | Buffer | null | undefined): Buffer | null {
  if (key === undefined || key === null) return null;
  return typeof key === 'string' ? Buffer.from(key) : key;
}

async function closeQuietly(log: Logger, what: string, close: () => Promise<void>): Promise<void> {
  try {
    await close();
  } catch (error) {
    log.warn({ err: error }, `closing ${what} failed`);
  }
}

const LIVENESS_STALL_MS = 180_000;

function liveness(loop: TransactionLoop | undefined): HealthStatus {
  if (loop === undefined) return { ok: true, reason: 'starting' };
  const idleMs = Date.now() - loop.lastTurnAt;
  return idleMs < LIVENESS_STALL_MS
    ? { ok: true, reason: 'loop turning' }
    : { ok: false, reason: `loop has not turned for ${idleMs} ms` };
}

function readiness(
  consumer: InputConsumer,
  loop: TransactionLoop | undefined,
  state: StateManager | undefined,
  maxLag: number,
  metrics: ProcessorMetrics,
): HealthStatus {
  const status = ((): HealthStatus => {
    if (loop === undefined) return { ok: false, reason: 'starting' };
    if (state?.isRestoring === true) return { ok: false, reason: 'restoring state from changelogs' };
    if (!consumer.hasJoinedGroup) return { ok: false, reason: 'waiting for a partition assignment' };
    const worst = Math.max(0, ...consumer.lag().values());
    metrics.assignedPartitions.set(consumer.assignment.length);
    if (worst > maxLag) return { ok: false, reason: `catching up: lag ${worst} > ${maxLag}` };
    return { ok: true, reason: `assigned ${consumer.assignment.length} partition(s), lag ${worst}` };
  })();
  metrics.ready.set(status.ok ? 1 : 0);
  return status;
}
