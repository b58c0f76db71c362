// Runs one copy of a sink as an OS process: config, logging, health, topics, schemas, clients, the
// connector, the sink loop, signals and a bounded clean shutdown. No store-specific code lives here.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, DefinitionError, describeError } from '../errors.ts';
import { envVarFor, loadConfig, redactConfig, runtimeConfigShape } from '../config/index.ts';
import type { ConfigSource } from '../config/index.ts';
import { startHealthServer } from '../observability/index.ts';
import type { HealthServer, HealthStatus, Logger } from '../observability/index.ts';
import { createGroupClients, ensureTopics, withAdmin } from '../kafka/index.ts';
import type { InputConsumer, TransactionalProducer } from '../kafka/index.ts';
import type { TopicSpec } from '../kafka/index.ts';
import { registryFromConfig } from '../serde/index.ts';
import { claimInstanceSlot } from './instance-slot.ts';
import type { InstanceSlot } from './instance-slot.ts';
import { EXIT_FENCED, EXIT_OK, exitCodeFor, onStopSignal, runAsProcess } from './process-lifecycle.ts';
import { recordFenced, refuseDuplicateInstance } from './instance-identity.ts';
import { StartupProgress, kafkaDependency, registryDependency, waitForDependency } from './startup-wait.ts';
import type { AnySinkDefinition, SinkConfig, SinkConnector } from './sink-definition.ts';
import { sinkConfigShape } from './sink-definition.ts';
import type { BoundTopic } from './sink-flush.ts';
import { buildSinkCodecs } from './sink-codecs.ts';
import { readCommitted } from './sink-history.ts';
import { SinkLoop } from './sink-loop.ts';
import { SinkMetrics } from './sink-metrics.ts';

type Config = SinkConfig<Record<string, z.ZodType>>;

/** Parses the sink's config (runtime keys, batching keys, its own); throws ConfigError listing each problem. */
export function loadSinkConfig(definition: AnySinkDefinition, source?: ConfigSource): Config {
  const own = definition.config as Record<string, z.ZodType>;
  const schema = z.object({ ...runtimeConfigShape, ...sinkConfigShape, ...own });
  return loadConfig(definition.name, schema, source);
}

/** Logical topics named in `sinkSkipTopics`; each must be one of the definition's bindings. */
export function skippedTopics(definition: AnySinkDefinition, setting: string): Set<string> {
  const skipped = new Set(
    setting
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== ''),
  );
  const known = definition.bindings.map((b) => b.topic);
  const unknown = [...skipped].filter((t) => !known.includes(t));
  if (unknown.length > 0)
    throw new ConfigError(`${definition.name}: sinkSkipTopics names a topic it does not bind`, [
      {
        key: 'sinkSkipTopics',
        envVar: envVarFor('sinkSkipTopics'),
        problem: `${unknown.join(', ')} is not a topic this sink binds`,
        fix: `name only bound topics: ${known.join(', ')}`,
      },
    ]);
  return skipped;
}

/** Physical topic → binding and dead-letter topic; refuses a binding that dead-letters into itself. */
export function boundTopics(
  definition: AnySinkDefinition,
  prefix: string,
  skipped: ReadonlySet<string> = new Set(),
): Map<string, BoundTopic> {
  const bound = new Map<string, BoundTopic>();
  for (const binding of definition.bindings) {
    if (skipped.has(binding.topic)) continue;
    const deadLetter = binding.deadLetter ?? definition.deadLetter;
    if (deadLetter === binding.topic)
      throw new DefinitionError(
        'TRIBUTARY_DEFINITION_INVALID',
        `${definition.name}: binding ${binding.topic} would dead-letter into itself`,
      );
    bound.set(prefix + binding.topic, { binding, deadLetterTopic: prefix + deadLetter });
  }
  return bound;
}

export async function runSink(definition: AnySinkDefinition, source?: ConfigSource): Promise<never> {
  return runAsProcess(
    definition.name,
    () => loadSinkConfig(definition, source),
    (config, log) => runSinkWithConfig(definition, config, log),
  );
}

interface Running {
  startup: StartupProgress;
  loop?: SinkLoop;
  connector?: SinkConnector;
  health?: HealthServer;
  slot?: InstanceSlot;
}

async function runSinkWithConfig(
  definition: AnySinkDefinition,
  config: Config,
  log: Logger,
): Promise<number> {
  const group = config.topicPrefix + definition.name;
  const running: Running = { startup: new StartupProgress() };
  const instanceId = config.instanceId ?? (running.slot = claimInstanceSlot(config.stateDir, group)).id;
  const processLog = log.child({ instance: instanceId });
  const identity = {
    stateDir: config.stateDir,
    group,
    instanceId,
    brokers: config.kafkaBrokers,
    sessionTimeoutMs: config.sessionTimeoutMs,
  };
  processLog.info({ config: redactConfig(config) }, `starting ${definition.name}`);
  const metrics = new SinkMetrics(definition.name);
  const { consumer, producer } = createGroupClients({
    brokers: config.kafkaBrokers,
    group,
    instanceId,
    sessionTimeoutMs: config.sessionTimeoutMs,
    transactionTimeoutMs: config.transactionTimeoutMs,
  });
  const shutdown = onStopSignal(
    processLog,
    config.shutdownTimeoutMs,
    'flushing and committing the batch in hand, then closing',
    () => running.loop?.stop(),
  );
  let exitCode = EXIT_OK;
  try {
    running.health = await startHealthServer(config.httpHost, config.httpPort, {
      metrics: metrics.registry,
      live: () => liveness(running.loop, config.sinkLivenessStallMs),
      ready: () => readiness(consumer, running, config.readyMaxLag, metrics),
    });
    processLog.info({ port: running.health.port }, `health and metrics on :${running.health.port}`);
    const bound = boundTopics(
      definition,
      config.topicPrefix,
      skippedTopics(definition, config.sinkSkipTopics),
    );
    const deadLetterTopics = [...new Set([...bound.values()].map((b) => b.deadLetterTopic))];
    const wait = { deadlineMs: config.startupDeadlineMs, log: processLog, progress: running.startup };
    await waitForDependency(
      kafkaDependency(config.kafkaBrokers),
      'creating topics',
      () => ensureSinkTopics(config, [...new Set([...bound.keys(), ...deadLetterTopics])]),
      wait,
    );
    await refuseDuplicateInstance(identity, processLog);
    const registry = registryFromConfig(config);
    const codecs = await waitForDependency(
      registryDependency(registry.baseUrl),
      'resolving schemas',
      () =>
        buildSinkCodecs(
          [...bound].map(([physicalTopic, { binding }]) => ({ physicalTopic, binding })),
          deadLetterTopics,
          registry,
          processLog,
        ),
      wait,
    );
    running.startup.phase = 'opening the store';
    running.connector = await definition.open({
      config,
      log: processLog,
      metrics: metrics.registry,
      readCommitted: (partitions) =>
        readCommitted({ brokers: config.kafkaBrokers, codecs, bound }, partitions),
    });
    await producer.connect();
    await consumer.connect([...bound.keys()], Math.min(config.maxBatchWaitMs, config.flushIntervalMs));
    running.loop = new SinkLoop({
      name: definition.name,
      // Unique per process: a restarted copy with the same instance id is a new writer in the ledger.
      writer: `${instanceId}#${randomBytes(4).toString('hex')}`,
      consumer,
      producer,
      connector: running.connector,
      codecs,
      bound,
      metrics,
      log: processLog,
      limits: config,
    });
    if (shutdown.requested) running.loop.stop();
    await running.loop.run();
    processLog.info('loop stopped cleanly');
  } catch (error) {
    exitCode = exitCodeFor(error);
    if (exitCode === EXIT_FENCED) recordFenced(identity);
    processLog.error({ err: error }, `stopping on error: ${describeError(error)}`);
  } finally {
    await closeAll(running, consumer, producer, processLog);
    shutdown.done();
  }
  processLog.info({ exitCode }, 'stopped');
  return exitCode;
}

async function ensureSinkTopics(config: Config, topics: string[]): Promise<void> {
  const specs = topics.map((name): TopicSpec => ({
    name,
    partitions: config.defaultPartitions,
    cleanupPolicy: 'delete',
  }));
  await withAdmin(config.kafkaBrokers, (admin) => ensureTopics(admin, specs));
}

async function closeAll(
  running: Running,
  consumer: InputConsumer,
  producer: TransactionalProducer,
  log: Logger,
): Promise<void> {
  const quietly = async (what: string, close: () => Promise<void>): Promise<void> => {
    try {
      await close();
    } catch (error) {
      log.warn({ err: error }, `closing ${what} failed`);
    }
  };
  await quietly('consumer', () => consumer.disconnect());
  await quietly('producer', () => producer.disconnect());
  const { connector } = running;
  if (connector !== undefined) await quietly('connector', () => connector.close());
  if (running.health !== undefined) await quietly('health server', running.health.close);
  running.slot?.release();
}

const LIVENESS_STALL_MS = 180_000;

function liveness(loop: SinkLoop | undefined, stallMs: number): HealthStatus {
  if (loop === undefined) return { ok: true, reason: 'starting' };
  return livenessOf(Date.now() - loop.lastProgressAt, loop.storeOutage(stallMs), stallMs);
}

/**
 * Live while the loop makes progress: it committed, or had nothing to fetch nor commit, within the stall
 * limit. A loop that turns but never commits (a commit retried forever, partitions with lag that never
 * deliver) is not live, and the supervisor restarts it. A store that keeps refusing is readiness.
 */
export function livenessOf(
  msSinceProgress: number,
  storeOutage: string | undefined,
  stallMs = LIVENESS_STALL_MS,
): HealthStatus {
  if (storeOutage !== undefined) return { ok: true, reason: storeOutage };
  return msSinceProgress < stallMs
    ? { ok: true, reason: 'loop making progress' }
    : { ok: false, reason: `no commit for ${msSinceProgress} ms with records pending` };
}

function readiness(
  consumer: InputConsumer,
  running: Running,
  maxLag: number,
  metrics: SinkMetrics,
): HealthStatus {
  const status = ((): HealthStatus => {
    const { loop, connector } = running;
    if (loop === undefined || connector === undefined) return { ok: false, reason: running.startup.phase };
    const fromLoop = loop.health();
    if (fromLoop !== undefined) return fromLoop;
    const fromConnector = connector.ready?.();
    if (fromConnector !== undefined && !fromConnector.ok) return fromConnector;
    if (!consumer.hasJoinedGroup) return { ok: false, reason: 'waiting for a partition assignment' };
    const worst = Math.max(0, ...consumer.lag().values());
    if (worst > maxLag) return { ok: false, reason: `catching up: lag ${worst} > ${maxLag}` };
    return { ok: true, reason: `assigned ${consumer.assignment.length} partition(s), lag ${worst}` };
  })();
  metrics.ready.set(status.ok ? 1 : 0);
  return status;
}
