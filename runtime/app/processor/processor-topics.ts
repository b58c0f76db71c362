// A processor's topics: physical names behind the prefix, the declared specs, and its state changelogs
// (created with the input's partition count, since changelog partition p holds input partition p's state).
import { DefinitionError } from '../../errors.ts';
import type { AnyProcessorDefinition, ProcessorConfig } from './definition.ts';
import { DEAD_LETTER_OUTPUT } from './batch.ts';
import { ensureTopics, partitionCount, readPartitionsToEnd, withAdmin } from '../../kafka/index.ts';
import type { TopicSpec } from '../../kafka/index.ts';
import { StateManager, changelogTopicConfig } from '../../state/index.ts';
import type { ChangelogReader, StoreCodecs, StoreDeclaration } from '../../state/index.ts';
import type { Logger } from '../../observability/index.ts';
import type { ConfigShape } from '../../config/index.ts';
import { declaredStores } from '../../time/index.ts';

type Config = ProcessorConfig<ConfigShape>;

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
      if (definition.deadLetter === undefined)
        throw new DefinitionError(
          'TRIBUTARY_DEFINITION_INVALID',
          `${definition.name} has no dead-letter topic`,
        );
      return prefix + definition.deadLetter.topic;
    }
    const declared = (definition.outputs as Record<string, { topic: string } | undefined>)[output];
    if (declared === undefined)
      throw new DefinitionError(
        'TRIBUTARY_DEFINITION_INVALID',
        `${definition.name} has no output "${output}"`,
      );
    return prefix + declared.topic;
  }
}

export function topicSpecs(definition: AnyProcessorDefinition, config: Config): TopicSpec[] {
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

/** `<prefix><processor>.<store>.changelog` */
export function changelogTopicFor(
  definition: AnyProcessorDefinition,
  prefix: string,
): (store: string) => string {
  return (store) => `${prefix}${definition.name}.${store}.changelog`;
}

function storeDeclarations(definition: AnyProcessorDefinition): Record<string, StoreDeclaration<unknown>> {
  return declaredStores(definition);
}

/**
 * Creates what is missing (inputs, outputs, dead letters, changelogs) and warns about what differs.
 * Returns the input topic's partition count (what this processor's `tributary-wm` headers name).
 */
export async function ensureProcessorTopics(
  definition: AnyProcessorDefinition,
  config: Config,
  log: Logger,
): Promise<number> {
  const changelogFor = changelogTopicFor(definition, config.topicPrefix);
  const { drift, partitions } = await withAdmin(config.kafkaBrokers, async (admin) => {
    const found = await ensureTopics(admin, topicSpecs(definition, config));
    const inputPartitions = await partitionCount(admin, config.topicPrefix + definition.input.topic);
    const changelogs = Object.entries(storeDeclarations(definition)).map(([store, declaration]) =>
      changelogSpec(changelogFor(store), inputPartitions, declaration, config),
    );
    return { drift: [...found, ...(await ensureTopics(admin, changelogs))], partitions: inputPartitions };
  });
  for (const d of drift) log.warn(d, `topic ${d.topic} differs from its declaration: ${d.problem}`);
  return partitions;
}

/** The processor's state, restored from its changelogs in Kafka; undefined when it declares no stores. */
export function createStateManager(
  definition: AnyProcessorDefinition,
  config: Config,
  log: Logger,
  codecs: StoreCodecs,
): StateManager | undefined {
  const declarations = storeDeclarations(definition);
  if (Object.keys(declarations).length === 0) return undefined;
  const group = config.topicPrefix + definition.name;
  const readChangelog: ChangelogReader = (topic, partitions, onRecord) =>
    readPartitionsToEnd(
      // The processor's group: its ACLs cover the reader (see ReadToEndOptions.groupId).
      { brokers: config.kafkaBrokers, groupId: group, topic, partitions, timeoutMs: 600_000 },
      (m) => onRecord(m.partition, toBuffer(m.key), m.value),
    );
  return new StateManager({
    declarations,
    changelogTopicFor: changelogTopicFor(definition, config.topicPrefix),
    readChangelog,
    log,
    codecs,
    config,
  });
}

function changelogSpec(
  name: string,
  partitions: number,
  declaration: StoreDeclaration,
  config: Config,
): TopicSpec {
  const { cleanupPolicy, retentionMs, segmentMs, extra } = changelogTopicConfig(declaration, config);
  const spec: TopicSpec = { name, partitions, cleanupPolicy };
  if (retentionMs !== undefined) spec.retentionMs = retentionMs;
  if (segmentMs !== undefined) spec.segmentMs = segmentMs;
  if (extra !== undefined) spec.extraConfig = extra;
  return spec;
}

function toBuffer(key: string | Buffer | null | undefined): Buffer | null {
  if (key === undefined || key === null) return null;
  return typeof key === 'string' ? Buffer.from(key) : key;
}
