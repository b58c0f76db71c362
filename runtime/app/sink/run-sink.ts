// Runs one copy of a sink as an OS process: its bound topics, schemas, the connector and the sink loop,
// hosted as a group member (../host/group-member.ts: instance id, clients, health, signals, exit code,
// shutdown). No store-specific code lives here.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, DefinitionError } from '../../errors.ts';
import { envVarFor, loadConfig, runtimeConfigShape } from '../../config/index.ts';
import type { ConfigSource } from '../../config/index.ts';
import type { HealthStatus, Logger } from '../../observability/index.ts';
import { ensureTopics, withAdmin } from '../../kafka/index.ts';
import type { TopicSpec } from '../../kafka/index.ts';
import { runAsProcess } from '../host/process-lifecycle.ts';
import { runGroupMember } from '../host/group-member.ts';
import { DEFAULT_STALL_MS, loopLiveness } from '../host/loop-progress.ts';
import type { GroupMember } from '../host/group-member.ts';
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

/** What /healthz and /readyz look at while the copy starts and runs. */
interface Running {
  loop?: SinkLoop;
  connector?: SinkConnector;
}

async function runSinkWithConfig(
  definition: AnySinkDefinition,
  config: Config,
  log: Logger,
): Promise<number> {
  const metrics = new SinkMetrics(definition.name);
  const running: Running = {};
  return runGroupMember(
    {
      name: definition.name,
      config,
      log,
      metrics: metrics.registry,
      onStopSays: 'flushing and committing the batch in hand, then closing',
      stop: () => running.loop?.stop(),
      live: () => liveness(running.loop, config.sinkLivenessStallMs),
      ready: (member) => readiness(member, running, config.readyMaxLag, metrics),
    },
    (member) => runLoop(definition, config, metrics, member, running),
  );
}

async function runLoop(
  definition: AnySinkDefinition,
  config: Config,
  metrics: SinkMetrics,
  member: GroupMember,
  running: Running,
): Promise<void> {
  const { consumer, producer, log } = member;
  const bound = boundTopics(definition, config.topicPrefix, skippedTopics(definition, config.sinkSkipTopics));
  const deadLetterTopics = [...new Set([...bound.values()].map((b) => b.deadLetterTopic))];
  await member.waitForKafka('creating topics', () =>
    ensureSinkTopics(config, [...new Set([...bound.keys(), ...deadLetterTopics])]),
  );
  await member.refuseDuplicateInstance();
  const codecs = await member.waitForRegistry('resolving schemas', () =>
    buildSinkCodecs(
      [...bound].map(([physicalTopic, { binding }]) => ({ physicalTopic, binding })),
      deadLetterTopics,
      member.registry,
      log,
    ),
  );
  member.startup.phase = 'opening the store';
  const connector = (running.connector = await definition.open({
    config,
    log,
    metrics: metrics.registry,
    readCommitted: (partitions) =>
      readCommitted(
        { brokers: config.kafkaBrokers, groupId: config.topicPrefix + definition.name, codecs, bound },
        partitions,
      ),
  }));
  member.onClose('connector', () => connector.close());
  await producer.connect();
  await consumer.connect([...bound.keys()], Math.min(config.maxBatchWaitMs, config.flushIntervalMs));
  running.loop = new SinkLoop({
    name: definition.name,
    // Unique per process: a restarted copy with the same instance id is a new writer in the ledger.
    writer: `${member.instanceId}#${randomBytes(4).toString('hex')}`,
    consumer,
    producer,
    connector,
    codecs,
    bound,
    metrics,
    log,
    limits: config,
  });
  if (member.stopRequested) running.loop.stop();
  await running.loop.run();
}

async function ensureSinkTopics(config: Config, topics: string[]): Promise<void> {
  const specs = topics.map((name): TopicSpec => ({
    name,
    partitions: config.defaultPartitions,
    cleanupPolicy: 'delete',
  }));
  await withAdmin(config.kafkaBrokers, (admin) => ensureTopics(admin, specs));
}

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
  stallMs = DEFAULT_STALL_MS,
): HealthStatus {
  const stalled = `no commit for ${msSinceProgress} ms with records pending`;
  return loopLiveness(msSinceProgress, stallMs, storeOutage, stalled);
}

function readiness(
  member: GroupMember,
  running: Running,
  maxLag: number,
  metrics: SinkMetrics,
): HealthStatus {
  const status = ((): HealthStatus => {
    const { loop, connector } = running;
    const { consumer } = member;
    if (loop === undefined || connector === undefined) return { ok: false, reason: member.startup.phase };
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
