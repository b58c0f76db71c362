// Runs one copy of a processor as an OS process: its declaration checked and opened, topics, state,
// event time, schemas, reference tables and the transaction loop, hosted as a group member
// (../host/group-member.ts: instance id, clients, health, signals, exit code, shutdown).
import { z } from 'zod';
import { DefinitionError } from '../../errors.ts';
import type { ProcessorConfig } from './definition.ts';
import type { AnyProcessorDefinition } from './definition.ts';
import { loadConfig, runtimeConfigShape } from '../../config/index.ts';
import type { ConfigSource } from '../../config/index.ts';
import { ProcessorMetrics } from './processor-metrics.ts';
import type { Logger } from '../../observability/index.ts';
import type { StateManager } from '../../state/index.ts';
import { buildCodecs } from './codecs.ts';
import type { ResolvedCodecs } from './codecs.ts';
import {
  changelogTopicFor,
  createStateManager,
  ensureProcessorTopics,
  topicResolver,
} from './processor-topics.ts';
import { liveness, readiness } from './processor-health.ts';
import { TransactionLoop } from './transaction-loop.ts';
import { EXIT_BAD_CONFIG, EXIT_OK, runAsProcess } from '../host/process-lifecycle.ts';
import { exitProcess } from '../host/process-exit.ts';
import { runGroupMember } from '../host/group-member.ts';
import type { GroupMember } from '../host/group-member.ts';
import { checkDefinition, declaredOutcomes, openResources } from './definition-checks.ts';
import { ProcessorTables } from './processor-tables.ts';
import { createEventTime, registerTimeMetrics } from '../../time/index.ts';
import type { EventTime } from '../../time/index.ts';

export { EXIT_OK, EXIT_FAILED, EXIT_BAD_CONFIG, EXIT_FENCED } from '../host/process-lifecycle.ts';

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
  const metrics = new ProcessorMetrics(definition.name);
  metrics.declareOutcomes(config.topicPrefix + definition.input.topic, declaredOutcomes(definition));
  const running: Running = {};
  return runGroupMember(
    {
      name: definition.name,
      config,
      log,
      metrics: metrics.registry,
      onStopSays: 'finishing the batch in hand, then closing clients',
      stop: () => {
        // Nothing is in hand before the loop exists: stop at once.
        if (running.loop === undefined) exitProcess(EXIT_OK);
        running.loop.stop();
      },
      live: () => liveness(running.loop),
      ready: (member) =>
        running.tables?.isLoaded === false
          ? { ok: false, reason: running.tables.describeLoading() }
          : readiness(
              member.consumer,
              running.loop,
              running.state,
              config.readyMaxLag,
              metrics,
              member.startup,
            ),
    },
    (member) => runLoop(definition, config, opened.resources, metrics, member, running),
  );
}

/** What /healthz and /readyz look at while the copy starts and runs. */
interface Running {
  loop?: TransactionLoop;
  state?: StateManager | undefined;
  tables?: ProcessorTables | undefined;
}

async function runLoop(
  definition: AnyProcessorDefinition,
  config: Config,
  resources: unknown,
  metrics: ProcessorMetrics,
  member: GroupMember,
  running: Running,
): Promise<void> {
  const copy: CopySetup = { definition, config, metrics, member };
  const topicFor = topicResolver(definition, config.topicPrefix);
  const inputTopic = config.topicPrefix + definition.input.topic;
  const inputPartitions = await member.waitForKafka('creating topics', () =>
    ensureProcessorTopics(definition, config, member.log),
  );
  await member.refuseDuplicateInstance();
  const { codecs, prepareInput, stores } = await registerSchemas(copy, topicFor);
  const state = (running.state = openState(copy, stores, inputTopic));
  const time = openEventTime(copy, inputTopic, inputPartitions, state);
  // Loaded before joining the group: no record is handled, and the copy is not ready, until then.
  const tables = (running.tables = openTables(copy));
  await tables?.load();
  await joinGroup(copy, inputTopic);
  running.loop = createTransactionLoop(copy, {
    resources,
    codecs,
    prepareInput,
    topicFor,
    inputTopic,
    time,
    state,
    tables,
  });
  await running.loop.run();
}

/** What every start-up step of one copy works with. */
interface CopySetup {
  definition: AnyProcessorDefinition;
  config: Config;
  metrics: ProcessorMetrics;
  member: GroupMember;
}

/** What the transaction loop and the handler's environment are built from, once start-up is done. */
interface LoopParts extends Pick<ResolvedCodecs, 'codecs' | 'prepareInput'> {
  resources: unknown;
  topicFor: (output: string) => string;
  inputTopic: string;
  time: EventTime;
  state: StateManager | undefined;
  tables: ProcessorTables | undefined;
}

function registerSchemas(copy: CopySetup, topicFor: (output: string) => string): Promise<ResolvedCodecs> {
  const { definition, config, member } = copy;
  return member.waitForRegistry('registering schemas', () =>
    buildCodecs(
      definition,
      member.registry,
      { topicFor, changelogTopicFor: changelogTopicFor(definition, config.topicPrefix) },
      member.log,
    ),
  );
}

function openState(
  copy: CopySetup,
  stores: ResolvedCodecs['stores'],
  inputTopic: string,
): StateManager | undefined {
  const { definition, config, metrics, member } = copy;
  const state = createStateManager(definition, config, member.log, stores);
  // A revoked partition's state is dropped at once: it is restored afresh if it comes back.
  if (state !== undefined) {
    member.consumer.addRebalanceListener(state.rebalanceListener(inputTopic));
    metrics.stateHorizons = () => state.horizons();
  }
  return state;
}

function openEventTime(
  copy: CopySetup,
  inputTopic: string,
  inputPartitions: number,
  state: StateManager | undefined,
): EventTime {
  const { definition, config, metrics, member } = copy;
  const time = createEventTime(definition, {
    inputTopic,
    inputPartitions,
    config,
    log: member.log,
    state,
    metrics: registerTimeMetrics(metrics.registry),
  });
  member.consumer.addRebalanceListener({
    onRevoked: (revoked) =>
      time.release(revoked.filter((tp) => tp.topic === inputTopic).map((tp) => tp.partition)),
  });
  return time;
}

/** The declared reference tables, closed with the copy; undefined when it declares none. */
function openTables(copy: CopySetup): ProcessorTables | undefined {
  const { definition, config, metrics, member } = copy;
  const tables = ProcessorTables.create(definition, config, member.registry, member.log, metrics.registry);
  if (tables !== undefined) member.onClose('reference tables', () => tables.close());
  return tables;
}

async function joinGroup(copy: CopySetup, inputTopic: string): Promise<void> {
  const { config, metrics, member } = copy;
  const { consumer, producer } = member;
  member.startup.phase = 'joining the consumer group';
  await producer.connect();
  consumer.onLag((lag) => {
    metrics.consumerLag.reset();
    for (const [key, value] of lag) {
      const cut = key.lastIndexOf('/');
      metrics.consumerLag.set({ topic: key.slice(0, cut), partition: key.slice(cut + 1) }, value);
    }
  });
  await consumer.connect([inputTopic], config.maxBatchWaitMs);
}

function createTransactionLoop(copy: CopySetup, parts: LoopParts): TransactionLoop {
  const { definition, config, metrics, member } = copy;
  const { consumer, producer, log } = member;
  const { codecs, topicFor, resources, time, inputTopic, state, tables } = parts;
  return new TransactionLoop({
    definition,
    consumer,
    producer,
    metrics,
    log,
    maxBatchRecords: config.maxBatchRecords,
    prepareInput: parts.prepareInput,
    ...(tables === undefined ? {} : { betweenBatches: () => tables.poll() }),
    env: {
      config,
      log,
      codecs,
      topicFor,
      now: Date.now,
      resources,
      time,
      assignedPartitions: () =>
        consumer.assignment.filter((tp) => tp.topic === inputTopic).map((tp) => tp.partition),
      ...(state === undefined ? {} : { state }),
      ...(tables === undefined ? {} : { tables: tables.views }),
    },
  });
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
