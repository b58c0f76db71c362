// One call for the common case: run a list of input records through a processor in memory and read
// what it wrote. For time, tables, several inputs or restart, use TestDriver directly.
import type { AnyProcessorDefinition, DeadLetterValue, OutputsOf, ValueOf } from '../app/index.ts';
import { TestDriver } from './test-driver.ts';
import type { InMemoryInput } from './test-input-topic.ts';
import type { InMemoryOutput } from './captured-outputs.ts';

export type { InMemoryInput } from './test-input-topic.ts';
export type { InMemoryOutput } from './captured-outputs.ts';
export { TestDriver } from './test-driver.ts';
export type { TestDriverOptions } from './test-driver.ts';

export interface InMemoryRun<D extends AnyProcessorDefinition = AnyProcessorDefinition> {
  /** Records per declared output, typed from the definition (an output nothing was written to is absent). */
  outputs: { [K in keyof OutputsOf<D>]?: Array<InMemoryOutput<ValueOf<OutputsOf<D>[K]['value']>>> };
  deadLetters: DeadLetterValue[];
  counted: ReadonlyMap<string, number>;
}

export interface InMemoryOptions {
  config?: Record<string, unknown>;
  /** Records per batch; the handler sees the same batching the loop would give it. */
  batchSize?: number;
  /** The wall clock (read once at start). */
  now?: () => number;
}

export async function runInMemory<D extends AnyProcessorDefinition>(
  definition: D,
  inputs: readonly InMemoryInput[],
  options: InMemoryOptions = {},
): Promise<InMemoryRun<D>> {
  const driver = await TestDriver.create(definition, {
    ...(options.config === undefined ? {} : { config: options.config }),
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    wallClockMs: (options.now ?? Date.now)(),
  });
  await driver.input().send(inputs);
  const outputs: Record<string, InMemoryOutput[]> = {};
  for (const name of Object.keys(definition.outputs as object)) {
    const records = driver.outputRecords(name);
    if (records.length > 0) outputs[name] = records;
  }
  return {
    outputs: outputs as InMemoryRun<D>['outputs'],
    deadLetters: driver.deadLetters,
    counted: driver.counted,
  };
}
