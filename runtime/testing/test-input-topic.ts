// One input topic of a test driver: numbers offsets per partition and stamps records sent without a
// timestamp with the driver's event time, then hands them to the driver as raw records.
import type { RawRecord } from '../app/index.ts';
import type { InputValue } from './in-memory-avro-input.ts';
import { WATERMARK_HEADER, encodeWatermarkHeader } from '../time/index.ts';
import type { WatermarkHeader } from '../time/index.ts';

export interface InMemoryInput {
  key?: string | Buffer | null;
  /** Bytes as consumed, or (for an Avro input) the record, encoded under the input's schema. */
  value: InputValue;
  partition?: number;
  /** Kafka record timestamp (ms); default: the driver's current event time. */
  timestamp?: number;
  /** The `tributary-wm` header an upstream processor would have written (its source partition's progress). */
  watermark?: WatermarkHeader;
}

export class TestInputTopic {
  private readonly nextOffsets = new Map<number, number>();

  constructor(
    readonly topic: string,
    private readonly process: (records: readonly RawRecord[]) => Promise<void>,
    private readonly eventTime: () => number,
    private readonly encode: (value: InputValue) => Buffer | null = (v) =>
      v === null ? null : Buffer.from(v as Buffer | string),
  ) {}

  /** Sends records and runs them through the processor in batches, each committed before the next. */
  async send(inputs: InMemoryInput | readonly InMemoryInput[]): Promise<void> {
    const list: readonly InMemoryInput[] = Array.isArray(inputs) ? inputs : [inputs as InMemoryInput];
    await this.process(list.map((input) => this.toRaw(input)));
  }

  private toRaw(input: InMemoryInput): RawRecord {
    const partition = input.partition ?? 0;
    const offset = this.nextOffsets.get(partition) ?? 0;
    this.nextOffsets.set(partition, offset + 1);
    const key = input.key === undefined || input.key === null ? null : Buffer.from(input.key);
    const value = this.encode(input.value);
    return {
      topic: this.topic,
      partition,
      offset,
      key,
      value,
      timestamp: input.timestamp ?? this.eventTime(),
      ...(input.watermark === undefined
        ? {}
        : { headers: [{ [WATERMARK_HEADER]: encodeWatermarkHeader(input.watermark) }] }),
    };
  }
}
