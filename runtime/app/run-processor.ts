// Runs one copy of a processor as an OS process: config, logging, health, topics, schemas, clients,
// the transaction loop, signals and a bounded clean shutdown.
import { z } from 'zod';
import { DefinitionError, describeError } from '../errors.ts';
import type { ProcessorConfig } from './definition.ts';
import type { AnyProcessorDefinition } from './definition.ts';
import { loadConfig, redactConfig, runtimeConfigShape } from '../config/index.ts';
import type { ConfigSource } from '../config/index.ts';
import { ProcessorMetrics, startHealthServer } from '../observability/index.ts';
import type { HealthServer, Logger } from '../observability/index.ts';
import { createGroupClients } from '../kafka/index.ts';
import type { StateManager } from '../state/index.ts';
import { buildCodecs } from './codecs.ts';
import { registryFromConfig } from '../serde/index.ts';
import { createStateManager, ensureProcessorTopics, topicResolver } from './processor-topics.ts';
import { liveness, readiness } from './processor-health.ts';
import { TransactionLoop } from './transaction-loop.ts';
import {
  EXIT_BAD_CONFIG,
  EXIT_FENCED,
  EXIT_OK,
  exitCodeFor,
  onStopSignal,
  runAsProcess,
} from './process-lifecycle.ts';
import { checkDefinition, declaredOutcomes, openResources } from './definition-checks.ts';
import { recordFenced, refuseDuplicateInstance } from './instance-identity.ts';
import { StartupProgress, kafkaDependency, registryDependency, waitForDependency } from './startup-wait.ts';
import { claimInstanceSlot } from './instance-slot.ts';
import type { InstanceSlot } from './instance-slot.ts';
import { ProcessorTables } from './processor-tables.ts';
import { createEventTime, registerTimeMetrics } from '../time/index.ts';

export { EXIT_OK, EXIT_FAILED, EXIT_BAD_CONFIG, EXIT_FENCED } from './process-lifecycle.ts';

type Config = ProcessorConfig<Record<string, z.ZodType>>;

/** Parses the processor's config (runtime keys + its own); on error prints what to fix and exits 2. */
export function loadProcessorConfig(definition: AnyProcessorDefinition, source?: ConfigSource): Config {
  const schema = z.object({ ...runtimeConfigShape, ...(definition.config as Record<string, z.ZodType>) });
  return loadConfig(definition.name, schema, source);
}

export async function runProcessor(
  definition: AnyProcessorDefinition,
  source?: ConfigSource,
): Promise<never> {
  return runAsProcess(
    definition.name,
    () => loadProcessorConfig(definition, source),
    (config, log) => runWithConfig(definition, config, log),
  );
}

async function runWithConfig(
  definition: AnyProcessorDefinition,
  config: Config,
  log: Logger,
): Promise<number> {
  const opened = await openDefinition(definition, config, log);
  if (opened === undefined) return EXIT_BAD_CONFIG;
  const group = config.topicPrefix + definition.name;
  let slot: InstanceSlot | undefined;
  const instanceId = config.instanceId ?? (slot = claimInstanceSlot(config.stateDir, group)).id;
  const processLog = log.child({ instance: instanceId });
  const identity = {
    stateDir: config.stateDir,
    group,
    instanceId,
    brokers: config.kafkaBrokers,
    sessionTimeoutMs: config.sessionTimeoutMs,
  };
  processLog.info({ config: redactConfig(config) }, `starting ${definition.name}`);

  const metrics = new ProcessorMetrics(definition.name);
  metrics.declareOutcomes(config.topicPrefix + definition.input.topic, declaredOutcomes(definition));
  const { consumer, producer } = createGroupClients({
    brokers: config.kafkaBrokers,
    group,
    instanceId,
    sessionTimeoutMs: config.sessionTimeoutMs,
    transactionTimeoutMs: config.transactionTimeoutMs,
  });
  let loop: TransactionLoop | undefined;
  let state: StateManager | undefined;
  let health: HealthServer | undefined;
  let tables: ProcessorTables | undefined;
  let exitCode = EXIT_OK;
  const startup = new StartupProgress();
  const stopSignal = onStopSignal(
    processLog,
    config.shutdownTimeoutMs,
    'finishing the batch in hand, then closing clients',
    () => {
      if (loop === undefined) process.exit(EXIT_OK);
      loop.stop();
    },
  );

  try {
    health = await startHealthServer(config.httpHost, config.httpPort, {
      metrics: metrics.registry,
      live: () => liveness(loop),
      ready: () =>
        tables?.isLoaded === false
          ? { ok: false, reason: tables.describeLoading() }
          : readiness(consumer, loop, state, config.readyMaxLag, metrics, startup),
    });
    processLog.info({ port: health.port }, `health and metrics on http://${config.httpHost}:${health.port}`);
    const topicFor = topicResolver(definition, config.topicPrefix);
    const wait = { deadlineMs: config.startupDeadlineMs, log: processLog, progress: startup };
    const inputPartitions = await waitForDependency(
      kafkaDependency(config.kafkaBrokers),
      'creating topics',
      () => ensureProcessorTopics(definition, config, processLog),
      wait,
    );
    await refuseDuplicateInstance(identity, processLog);
    state = createStateManager(definition, config, processLog);
    const inputTopic = config.topicPrefix + definition.input.topic;
    // A revoked partition's state is dropped at once: it is restored afresh if it comes back.
    if (state !== undefined) {
      consumer.addRebalanceListener(state.rebalanceListener(inputTopic));
      const held = state;
      metrics.stateHorizons = () => held.horizons();
    }
    const time = createEventTime(definition, {
      inputTopic,
      inputPartitions,
      config,
      log: processLog,
      state,
      metrics: registerTimeMetrics(metrics.registry),
    });
    consumer.addRebalanceListener({
      onRevoked: (revoked) =>
        time.release(revoked.filter((tp) => tp.topic === inputTopic).map((tp) => tp.partition)),
    });
    const registry = registryFromConfig(config);
    const { codecs, prepareInput } = await waitForDependency(
      registryDependency(registry.baseUrl),
      'registering schemas',
      () => buildCodecs(definition, registry, topicFor, processLog),
      wait,
    );
    // Loaded before joining the group: no record is handled, and the copy is not ready, until then.
    tables = ProcessorTables.create(definition, config, registry, processLog, metrics.registry);
    await tables?.load();
    startup.phase = 'joining the consumer group';
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
      ...(tables === undefined ? {} : { betweenBatches: () => tables?.poll() }),
      env: {
        config,
        log: processLog,
        codecs,
        topicFor,
        now: Date.now,
        resources: opened.resources,
        time,
        assignedPartitions: () =>
          consumer.assignment.filter((tp) => tp.topic === inputTopic).map((tp) => tp.partition),
        ...(state === undefined ? {} : { state }),
        ...(tables === undefined ? {} : { tables: tables.views }),
      },
    });
    await loop.run();
    processLog.info('loop stopped cleanly');
  } catch (error) {
    exitCode = exitCodeFor(error);
    if (exitCode === EXIT_FENCED) recordFenced(identity);
    const message =
      exitCode === EXIT_FENCED
        ? 'fenced: another copy took over this transactional id; stopping (if that copy is alive and not ' +
          'a replacement of this one, give each copy its own TRIBUTARY_INSTANCE_ID)'
        : `stopping on error: ${describeError(error)}`;
    processLog.error({ err: error }, message);
  } finally {
    await closeQuietly(processLog, 'consumer', () => consumer.disconnect());
    await closeQuietly(processLog, 'producer', () => producer.disconnect());
    const heldTables = tables;
    if (heldTables !== undefined)
      await closeQuietly(processLog, 'reference tables', () => heldTables.close());
    if (health !== undefined) await closeQuietly(processLog, 'health server', health.close);
    slot?.release();
    stopSignal.done();
  }
  processLog.info({ exitCode }, 'stopped');
  return exitCode;
}

/** Checks the declaration and runs `open` before anything touches Kafka; a mistake is logged, exit 2. */
async function openDefinition(
  definition: AnyProcessorDefinition,
  config: Config,
  log: Logger,
): Promise<{ resources: unknown } | undefined> {
  try {
    checkDefinition(definition, { tablesSupported: true });
    return { resources: await openResources(definition, config) };
  } catch (error) {
    if (!(error instanceof DefinitionError)) throw error;
    log.error({ err: error }, `${definition.name} cannot start: ${error.message}`);
    return undefined;
  }
}

async function closeQuietly(log: Logger, what: string, close: () => Promise<void>): Promise<void> {
  try {
    await close();
  } catch (error) {
    log.warn({ err: error }, `closing ${what} failed`);
  }
}
