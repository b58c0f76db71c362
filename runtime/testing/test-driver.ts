// Runs a processor without a broker or registry, in the spirit of Kafka Streams' TopologyTestDriver:
// the same batch code, codecs and schemas as the real loop over an in-memory registry, with typed
// outputs, reference tables fed like topics, event and wall-clock time under the test's control, and
// restart from the changelog records it captured (so restore is tested without Kafka).
import type {
  AnyProcessorDefinition,
  OutputsOf,
  ProcessorConfig,
  RawRecord,
  TablesOf,
  ValueOf,
} from '../app/index.ts';
import { buildCodecs, loadProcessorConfig, processBatch, topicResolver } from '../app/index.ts';
import type { BatchEnvironment, BatchResult } from '../app/processor/batch.ts';
import type { ResolvedCodecs } from '../app/processor/codecs.ts';
import { checkDefinition, openResources, undeclared } from '../app/processor/definition-checks.ts';
import type { ConfigShape } from '../config/index.ts';
import { createLogger } from '../observability/index.ts';
import type { Logger } from '../observability/index.ts';
import { InMemorySchemaRegistry } from './in-memory-schema-registry.ts';
import { CapturedOutputs } from './captured-outputs.ts';
import type { ChangelogRecord, InMemoryOutput } from './captured-outputs.ts';
import { InMemoryTable } from './in-memory-table.ts';
import { inputEncoder } from './in-memory-avro-input.ts';
import type { InputValue } from './in-memory-avro-input.ts';
import type { TestTable } from './in-memory-table.ts';
import { TestInputTopic } from './test-input-topic.ts';
import { createReplayingState } from './replaying-state.ts';
import type { StateManager } from '../state/index.ts';
import { createEventTime, declaredStores } from '../time/index.ts';
import type { EventTime } from '../time/index.ts';

export interface TestDriverOptions {
  /** The processor's own and runtime config keys, as a config file would give them. */
  config?: Record<string, unknown>;
  /** Records per batch; the handler sees the batching the loop would give it. */
  batchSize?: number;
  /** Wall-clock time at start (ms); `now()` of the runtime (e.g. a dead letter's failed_at). */
  wallClockMs?: number;
  /** Partitions of the input topic (what output `tributary-wm` headers name); default 1. */
  inputPartitions?: number;
}

type Outputs<D> = OutputsOf<D>;
type OutputValue<D, K extends keyof Outputs<D>> = ValueOf<Outputs<D>[K]['value']>;
type TableValue<D, K extends keyof TablesOf<D>> = ValueOf<TablesOf<D>[K]['value']>;

export class TestDriver<D extends AnyProcessorDefinition> {
  private readonly inputs = new Map<string, TestInputTopic>();
  private readonly tables = new Map<string, InMemoryTable<unknown>>();
  private readonly idle = new Set<string>();
  private readonly assigned = new Set<number>();
  private state: StateManager | undefined;
  private time: EventTime | undefined;
  private resources: unknown;
  private eventTimeMs = 0;
  private abortsPending = 0;
  /** Every lateness observation (seconds behind the partition's progress), as the histogram gets them. */
  readonly latenessSeconds: number[] = [];

  private constructor(
    readonly definition: D,
    private readonly config: ProcessorConfig<ConfigShape>,
    private readonly codecs: ResolvedCodecs,
    private readonly captured: CapturedOutputs,
    private readonly log: Logger,
    private readonly batchSize: number,
    private wallClockMs: number,
    private readonly inputPartitions: number,
    encodeInput: (value: InputValue) => Buffer | null,
  ) {
    const input = new TestInputTopic(
      definition.input.topic,
      (records) => this.process(records),
      () => this.eventTimeMs,
      encodeInput,
    );
    this.inputs.set(definition.input.topic, input);
    for (const name of Object.keys((definition.tables ?? {}) as object))
      this.tables.set(name, new InMemoryTable(() => this.wallClockMs));
  }

  /** Checks the definition, loads its config, runs its `open` hook, resolves codecs: what a start does. */
  static async create<D extends AnyProcessorDefinition>(
    definition: D,
    options: TestDriverOptions = {},
  ): Promise<TestDriver<D>> {
    checkDefinition(definition, { tablesSupported: true });
    const config = loadProcessorConfig(definition, { env: {}, overrides: options.config ?? {} });
    const log = createLogger({ name: definition.name, level: 'silent', pretty: false });
    const registry = new InMemorySchemaRegistry();
    const topicFor = topicResolver(definition, '');
    const changelogTopicFor = (store: string) => changelogTopic(definition, store);
    const codecs = await buildCodecs(definition, registry, { topicFor, changelogTopicFor }, log);
    const changelogs = Object.keys(declaredStores(definition)).map((s) => changelogTopic(definition, s));
    const captured = new CapturedOutputs(definition, registry, topicFor, changelogs);
    const driver = new TestDriver(
      definition,
      config,
      codecs,
      captured,
      log,
      options.batchSize ?? 1000,
      options.wallClockMs ?? Date.now(),
      options.inputPartitions ?? 1,
      await inputEncoder(definition, registry, definition.input.topic),
    );
    await driver.start();
    return driver;
  }

  /** A declared input topic (by logical name; default: the definition's input). */
  input(topic: string = this.definition.input.topic): TestInputTopic {
    const input = this.inputs.get(topic);
    if (input === undefined) throw undeclared(this.definition, `has no input topic "${topic}"`);
    return input;
  }

  /** A declared reference table, to feed like its compacted topic. */
  table<K extends keyof TablesOf<D> & string>(name: K): TestTable<TableValue<D, K>> {
    const table = this.tables.get(name);
    if (table === undefined) throw undeclared(this.definition, `has no reference table "${name}"`);
    return table;
  }

  /** The values written to an output so far, decoded, typed from the definition. */
  output<K extends keyof Outputs<D> & string>(name: K): Array<OutputValue<D, K>> {
    return this.outputRecords(name).map((record) => record.value);
  }

  /** The records (key, value, timestamp) written to an output so far. */
  outputRecords<K extends keyof Outputs<D> & string>(name: K): Array<InMemoryOutput<OutputValue<D, K>>> {
    return (this.captured.outputs.get(name) ?? []) as Array<InMemoryOutput<OutputValue<D, K>>>;
  }

  get deadLetters(): CapturedOutputs['deadLetters'] {
    return this.captured.deadLetters;
  }

  /** Counted outcomes by `outcome` or `outcome:reason`. */
  get counted(): ReadonlyMap<string, number> {
    return this.captured.counted;
  }

  /** The changelog records of a declared store written so far (what restart restores from). */
  changelog(store: string): readonly ChangelogRecord[] {
    return this.captured.changelogs.get(changelogTopic(this.definition, store)) ?? [];
  }

  /** Event time: the default timestamp of records sent without one; records with a later one move it. */
  get eventTime(): number {
    return this.eventTimeMs;
  }

  advanceEventTime(ms: number): void {
    this.eventTimeMs += ms;
  }

  get wallClockTime(): number {
    return this.wallClockMs;
  }

  advanceWallClockTime(ms: number): void {
    this.wallClockMs += ms;
  }

  /**
   * Marks a partition idle: as if it had received nothing for the idle timeout, so the next `tick()`
   * (or batch) moves its windows on by wall clock. A record clears the mark.
   */
  markPartitionIdle(partition: number, topic: string = this.definition.input.topic): void {
    this.idle.add(`${topic}/${partition}`);
    this.assigned.add(partition);
    this.time?.markSilent(partition, this.wallClockMs);
  }

  /** The watermark of an input partition (progress minus allowed lateness); -Infinity until known. */
  watermark(partition = 0): number {
    return this.time?.watermark(partition, this.wallClockMs) ?? Number.NEGATIVE_INFINITY;
  }

  /** The loop's turn with nothing to consume: timers see the wall clock; commits only what they wrote. */
  async tick(): Promise<void> {
    await this.syncAssigned();
    await this.commit(processBatch(this.definition, [], this.environment()));
  }

  isIdle(partition: number, topic: string = this.definition.input.topic): boolean {
    return this.idle.has(`${topic}/${partition}`);
  }

  /**
   * The next batch is processed, then aborted (as the loop does when partitions move during a batch:
   * state and event time rolled back, outputs dropped), then processed again, as after the rewind.
   */
  abortNextBatch(): void {
    this.abortsPending++;
  }

  /** A new copy of the process: `open` again, state rebuilt only from the captured changelog records. */
  async restart(): Promise<void> {
    this.state = undefined;
    this.time = undefined;
    await this.start();
    // The new copy is assigned the partitions the old one held, and restores them before anything else.
    await this.syncAssigned();
  }

  private async syncAssigned(): Promise<void> {
    await this.state?.sync([...this.assigned]);
  }

  private async start(): Promise<void> {
    this.resources = await openResources(this.definition, this.config);
    this.state = createReplayingState(this.definition, {
      changelogs: this.captured.changelogs,
      changelogTopicFor: (s) => changelogTopic(this.definition, s),
      codecs: this.codecs.stores,
      log: this.log,
      config: this.config,
    });
    this.time = createEventTime(this.definition, {
      inputTopic: this.definition.input.topic,
      inputPartitions: this.inputPartitions,
      config: this.config,
      log: this.log,
      state: this.state,
      onLateness: (seconds) => this.latenessSeconds.push(seconds),
    });
  }

  private async process(records: readonly RawRecord[]): Promise<void> {
    for (let start = 0; start < records.length; start += this.batchSize)
      await this.processBatch(records.slice(start, start + this.batchSize));
  }

  private async processBatch(batch: readonly RawRecord[]): Promise<void> {
    for (const record of batch) {
      this.idle.delete(`${record.topic}/${record.partition}`);
      this.assigned.add(record.partition);
      this.eventTimeMs = Math.max(this.eventTimeMs, record.timestamp);
    }
    await this.codecs.prepareInput(batch.map((r) => r.value));
    await this.state?.sync([...this.assigned]);
    if (this.abortsPending > 0) {
      this.abortsPending--;
      processBatch(this.definition, batch, this.environment());
      this.state?.rollback();
      this.time?.rollback(this.wallClockMs);
    }
    await this.commit(processBatch(this.definition, batch, this.environment()));
  }

  /** The batch commits: state, event time and captured outputs move together, as in one transaction. */
  private async commit(result: BatchResult): Promise<void> {
    this.state?.commit();
    this.time?.commit();
    this.captured.addCounts(result.counted);
    for (const message of result.messages) await this.captured.add(message);
  }

  private environment(): BatchEnvironment {
    const env: BatchEnvironment = {
      config: this.config,
      log: this.log,
      codecs: this.codecs.codecs,
      topicFor: topicResolver(this.definition, ''),
      now: () => this.wallClockMs,
      resources: this.resources,
      tables: this.tables,
      assignedPartitions: () => [...this.assigned],
    };
    if (this.state !== undefined) env.state = this.state;
    if (this.time !== undefined) env.time = this.time;
    return env;
  }
}

function changelogTopic(definition: AnyProcessorDefinition, store: string): string {
  return `${definition.name}.${store}.changelog`;
}
