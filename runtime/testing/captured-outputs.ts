// What a test driver captures from committed batches: outputs decoded by name, dead letters, counted
// outcomes, and the changelog records a restart restores state from.
import { AvroDecoder } from '../serde/index.ts';
import type { SchemaRegistry } from '../serde/index.ts';
import type { AnyProcessorDefinition, DeadLetterValue, ValueCodec } from '../app/index.ts';
import { DEAD_LETTER_OUTPUT } from '../app/index.ts';
import type { OutgoingMessage } from '../kafka/index.ts';
import { decodeWatermarkHeader, findWatermarkHeader } from '../time/index.ts';
import type { WatermarkHeader } from '../time/index.ts';

export interface InMemoryOutput<T = unknown> {
  key: string | null;
  value: T;
  timestamp?: number;
  /** The record's `tributary-wm` header, decoded. */
  watermark?: WatermarkHeader;
}

export interface ChangelogRecord {
  partition: number;
  key: Buffer | null;
  value: Buffer | null;
}

export class CapturedOutputs {
  readonly outputs = new Map<string, InMemoryOutput[]>();
  readonly deadLetters: DeadLetterValue[] = [];
  readonly counted = new Map<string, number>();
  /** Per changelog topic, in write order: what Kafka would hold (before compaction). */
  readonly changelogs = new Map<string, ChangelogRecord[]>();
  private readonly outputByTopic = new Map<string, string>();
  private readonly dlqTopic: string | undefined;
  private readonly decoder: AvroDecoder<unknown>;

  constructor(
    private readonly definition: AnyProcessorDefinition,
    registry: SchemaRegistry,
    topicFor: (output: string) => string,
    changelogTopics: readonly string[],
  ) {
    for (const name of Object.keys(definition.outputs as object))
      this.outputByTopic.set(topicFor(name), name);
    this.dlqTopic = definition.deadLetter === undefined ? undefined : topicFor(DEAD_LETTER_OUTPUT);
    for (const topic of changelogTopics) this.changelogs.set(topic, []);
    // Writer schema as reader: tests see exactly what was written.
    this.decoder = AvroDecoder.forWriterSchema<unknown>(registry);
  }

  addCounts(counted: ReadonlyMap<string, number>): void {
    for (const [key, count] of counted) this.counted.set(key, (this.counted.get(key) ?? 0) + count);
  }

  async add(message: OutgoingMessage): Promise<void> {
    const changelog = this.changelogs.get(message.topic);
    if (changelog !== undefined) {
      changelog.push({ partition: message.partition ?? 0, key: message.key, value: message.value });
      return;
    }
    if (message.topic === this.dlqTopic) {
      this.deadLetters.push((await this.decodeAvro(message.value)) as DeadLetterValue);
      return;
    }
    const name = this.outputByTopic.get(message.topic) ?? message.topic;
    const output: InMemoryOutput = {
      key: message.key?.toString() ?? null,
      value: await this.decodeOutput(name, message.value),
    };
    if (message.timestamp !== undefined) output.timestamp = message.timestamp;
    const header = findWatermarkHeader(message.headers);
    if (header !== undefined) output.watermark = decodeWatermarkHeader(header);
    const captured = this.outputs.get(name) ?? [];
    captured.push(output);
    this.outputs.set(name, captured);
  }

  private async decodeOutput(name: string, value: Buffer | null): Promise<unknown> {
    const declared = (this.definition.outputs as Record<string, { value: ValueCodec<unknown> } | undefined>)[
      name
    ];
    return declared?.value.kind === 'bytes' ? value : this.decodeAvro(value);
  }

  private async decodeAvro(value: Buffer | null): Promise<unknown> {
    return value === null ? null : this.decoder.decodeAsync(value);
  }
}
