// The `ctx` a handler sees while processBatch runs it: emits, counts, stores and tables, each checked
// against the definition; what one record emits and counts is kept only if the record is accepted.
import { ValidationError } from '../../errors.ts';
import type { Logger } from '../../observability/index.ts';
import type { AnyProcessorDefinition, EmitOptions, TableView } from './definition.ts';
import { declaredOutcomes, undeclared } from './definition-checks.ts';
import type { OutgoingMessage } from '../../kafka/index.ts';
import type { AnyPartitionStore } from '../../state/index.ts';
import type { BatchEnvironment, BatchResult } from './batch.ts';

/** Reason code for a record whose output would exceed the message size limit (TRIBUTARY_MAX_MESSAGE_BYTES). */
export const OUTPUT_TOO_LARGE_REASON = 'output_too_large';

/** Room for a record's framing inside librdkafka's size check (record headers, varints, timestamps). */
const RECORD_OVERHEAD_BYTES = 512;

/** Bytes of a message as librdkafka measures it against message.max.bytes, plus a margin for framing. */
export function messageBytes(key: Buffer | null, value: Buffer | null): number {
  return (key?.length ?? 0) + (value?.length ?? 0) + RECORD_OVERHEAD_BYTES;
}

export function increment(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function toKeyBuffer(key: string | Buffer | null): Buffer | null {
  return typeof key === 'string' ? Buffer.from(key) : key;
}

/** The `ctx` a handler sees; what one record emits and counts is held until the record is accepted. */
export class BatchContext {
  readonly config: BatchEnvironment['config'];
  readonly log: Logger;
  readonly resources: unknown;
  private readonly outcomes: ReadonlySet<string>;
  private pending: OutgoingMessage[] = [];
  private pendingCounts: string[] = [];
  private partition = 0;
  /** The batch's wall-clock time (ms), read once per batch. */
  nowMs = 0;
  /** Largest event time of what the current record emitted (declared `eventTime.output`). */
  emittedEventTimeMs: number | undefined;
  private readonly outputEventTime: Readonly<Record<string, ((value: unknown) => number) | undefined>>;

  constructor(
    private readonly definition: AnyProcessorDefinition,
    private readonly env: BatchEnvironment,
    private readonly result: BatchResult,
  ) {
    this.config = env.config;
    this.log = env.log;
    this.resources = env.resources;
    this.outcomes = new Set(declaredOutcomes(definition).map(countKey));
    this.outputEventTime = definition.eventTime?.output ?? {};
  }

  startRecord(partition: number): void {
    this.partition = partition;
    this.pending = [];
    this.pendingCounts = [];
    this.emittedEventTimeMs = undefined;
  }

  get watermarkMs(): number {
    return this.env.time?.watermark(this.partition, this.nowMs) ?? Number.NEGATIVE_INFINITY;
  }

  keepRecord(): void {
    for (const message of this.pending) {
      increment(this.result.emitted, message.topic);
      this.result.messages.push(message);
    }
    for (const key of this.pendingCounts) increment(this.result.counted, key);
  }

  emit = (output: string, key: string | Buffer | null, value: unknown, options?: EmitOptions): void => {
    if (!(output in this.definition.outputs))
      throw undeclared(this.definition, `emitted to undeclared output "${output}"`);
    const message: OutgoingMessage = {
      topic: this.env.topicFor(output),
      key: toKeyBuffer(key),
      value: this.env.codecs.encodeOutput(output, value),
    };
    // Kafka would refuse it on every retry (MSG_SIZE_TOO_LARGE): the input record is dead-lettered.
    const bytes = messageBytes(message.key, message.value);
    if (bytes > this.env.config.maxMessageBytes) {
      throw new ValidationError(
        OUTPUT_TOO_LARGE_REASON,
        `output "${output}" would be ${bytes} bytes, over the ${this.env.config.maxMessageBytes}-byte message limit`,
      );
    }
    if (options?.timestamp !== undefined) message.timestamp = options.timestamp;
    // Downstream processors read how far in event time this record's input partition had come.
    if (this.env.time !== undefined) message.headers = [this.env.time.headerFor(this.partition, this.nowMs)];
    const eventTimeOf = this.outputEventTime[output];
    if (eventTimeOf !== undefined) {
      const ms = eventTimeOf(value);
      if (this.emittedEventTimeMs === undefined || ms > this.emittedEventTimeMs) this.emittedEventTimeMs = ms;
    }
    this.pending.push(message);
  };

  count = (outcome: string, reason?: string): void => {
    const key = countKey({ outcome, reason: reason ?? '' });
    if (!this.outcomes.has(key)) throw undeclared(this.definition, `counted undeclared outcome "${key}"`);
    this.pendingCounts.push(key);
  };

  store = (name: string): AnyPartitionStore => {
    if (this.env.state === undefined || !this.env.state.storeNames.includes(name))
      throw undeclared(this.definition, `used undeclared store "${name}"`);
    return this.env.state.store(name, this.partition);
  };

  table = (name: string): TableView<unknown> => {
    const table = this.env.tables?.get(name);
    if (table === undefined) throw undeclared(this.definition, `read undeclared reference table "${name}"`);
    return table;
  };
}

/** `outcome` or `outcome:reason`: the key of BatchResult.counted. */
function countKey({ outcome, reason }: { outcome: string; reason: string }): string {
  return reason === '' ? outcome : `${outcome}:${reason}`;
}
