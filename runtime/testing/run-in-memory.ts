// Runs a processor's handler without a broker or registry: the same batch code, codecs and schemas as
// the real loop, over an in-memory registry. Outputs come back decoded so tests read plain values.
import { AvroDecoder } from '../serde/index.ts';
import type { AnyProcessorDefinition, DeadLetterValue, RawRecord } from '../app/index.ts';
import {
  DEAD_LETTER_OUTPUT,
  buildCodecs,
  loadProcessorConfig,
  processBatch,
  topicResolver,
} from '../app/index.ts';
import { createLogger } from '../observability/index.ts';
import { InMemorySchemaRegistry } from './in-memory-schema-registry.ts';
import { StateManager } from '../state/index.ts';
import type { StoreDeclaration } from '../state/index.ts';

export interface InMemoryInput {
  key?: string | Buffer | null;
  value: Buffer | string | null;
  partition?: number;
  timestamp?: number;
}

export interface InMemoryOutput<T = unknown> {
  key: string | null;
  value: T;
  timestamp?: number;
}

export interface InMemoryRun {
  outputs: Record<string, InMemoryOutput[]>;
  deadLetters: DeadLetterValue[];
  counted: Map<string, number>;
}

export interface InMemoryOptions {
  config?: Record<string, unknown>;
  /** Records per batch; the handler sees the same batching the loop would give it. */
  batchSize?: number;
  now?: () => number;
}

export async function runInMemory(
  definition: AnyProcessorDefinition,
  inputs: readonly InMemoryInput[],
  options: InMemoryOptions = {},
): Promise<InMemoryRun> {
  const config = loadProcessorConfig(definition, { env: {}, overrides: options.config ?? {} });
  const log = createLogger({ name: definition.name, level: 'silent', pretty: false });
  const registry = new InMemorySchemaRegistry();
  const topicFor = topicResolver(definition, '');
  const { codecs, prepareInput } = await buildCodecs(definition, registry, topicFor, log);
  const inputTopic = definition.input.topic;
  const offsets = new Map<number, number>();
  const raws: RawRecord[] = inputs.map((input) => {
    const partition = input.partition ?? 0;
    const offset = offsets.get(partition) ?? 0;
    offsets.set(partition, offset + 1);
    const key = input.key === undefined || input.key === null ? null : Buffer.from(input.key);
    const value = input.value === null ? null : Buffer.from(input.value);
    return { topic: inputTopic, partition, offset, key, value, timestamp: input.timestamp ?? 0 };
  });

  const run: InMemoryRun = { outputs: {}, deadLetters: [], counted: new Map() };
  const byTopic = new Map<string, string>(
    Object.keys(definition.outputs as object).map((name) => [topicFor(name), name]),
  );
  const dlqTopic = definition.deadLetter === undefined ? undefined : topicFor(DEAD_LETTER_OUTPUT);
  const decoders = new Map<string, AvroDecoder<unknown>>();
  const storeNames = Object.keys((definition.stores ?? {}) as object);
  const changelogFor = (store: string): string => `${definition.name}.${store}.changelog`;
  const changelogs = new Set(storeNames.map(changelogFor));
  const state =
    storeNames.length === 0
      ? undefined
      : new StateManager(
          definition.stores as Record<string, StoreDeclaration<unknown>>,
          changelogFor,
          undefined,
          log,
          config,
        );
  const batchSize = options.batchSize ?? 1000;
  for (let start = 0; start < raws.length; start += batchSize) {
    const batch = raws.slice(start, start + batchSize);
    await prepareInput(batch.map((r) => r.value));
    await state?.sync([...new Set(raws.map((r) => r.partition))]);
    const result = processBatch(definition, batch, {
      config,
      log,
      codecs,
      topicFor,
      now: options.now ?? Date.now,
      ...(state === undefined ? {} : { state }),
    });
    state?.commit();
    for (const [key, count] of result.counted) run.counted.set(key, (run.counted.get(key) ?? 0) + count);
    for (const message of result.messages) {
      if (changelogs.has(message.topic)) continue;
      const decoded = await decodeOutput(
        message.topic,
        message.value,
        registry,
        decoders,
        definition,
        byTopic,
        dlqTopic,
      );
      if (message.topic === dlqTopic) {
        run.deadLetters.push(decoded as DeadLetterValue);
        continue;
      }
      const name = byTopic.get(message.topic) ?? message.topic;
      const output: InMemoryOutput = { key: message.key?.toString() ?? null, value: decoded };
      if (message.timestamp !== undefined) output.timestamp = message.timestamp;
      (run.outputs[name] ??= []).push(output);
    }
  }
  return run;
}

async function decodeOutput(
  topic: string,
  value: Buffer | null,
  registry: InMemorySchemaRegistry,
  decoders: Map<string, AvroDecoder<unknown>>,
  definition: AnyProcessorDefinition,
  byTopic: Map<string, string>,
  dlqTopic: string | undefined,
): Promise<unknown> {
  if (value === null) return null;
  const output = byTopic.get(topic);
  const declared =
    output === undefined
      ? undefined
      : (definition.outputs as Record<string, { value: { kind: string } }>)[output];
  if (topic !== dlqTopic && declared?.value.kind === 'bytes') return value;
  let decoder = decoders.get(topic);
  if (decoder === undefined) {
    // Writer schema as reader: tests see exactly what was written.
    decoder = AvroDecoder.forWriterSchema<unknown>(registry);
    decoders.set(topic, decoder);
  }
  return decoder.decodeAsync(value);
}
