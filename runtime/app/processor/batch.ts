// Runs a handler over one consumed batch and turns the result into the messages of one transaction.
// Pure apart from the handler itself: the Kafka loop and the in-memory harness both call it.
import { SerdeError, ValidationError, describeError } from '../../errors.ts';
import type { Logger } from '../../observability/index.ts';
import type { AnyProcessorDefinition, InputRecord, TableView } from './definition.ts';
import { undeclared } from './definition-checks.ts';
import { BatchContext, increment, messageBytes } from './batch-context.ts';
import type { OutgoingMessage } from '../../kafka/index.ts';
import type { RuntimeConfig } from '../../config/index.ts';
import type { StateManager } from '../../state/index.ts';
import type { DeadLetter } from '../../contracts/records.ts';
import type { EventTime } from '../../time/index.ts';
import { findWatermarkHeader } from '../../time/index.ts';
import type { MessageHeader } from '../../kafka/librdkafka.ts';

export interface RawRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  /** As consumed; the runtime reads `tributary-wm` from them. */
  headers?: MessageHeader[];
}

/** What a dead-letter topic carries: the record generated from schemas/dead-letter.avsc. */
export type DeadLetterValue = DeadLetter;

/** Encoding and decoding for one processor, resolved once at start (schema ids known, types cached). */
export interface BatchCodecs {
  decodeInput(value: Buffer | null): unknown;
  encodeOutput(output: string, value: unknown): Buffer;
  encodeDeadLetter(value: DeadLetterValue): Buffer;
}

export interface BatchEnvironment {
  config: RuntimeConfig & Record<string, unknown>;
  log: Logger;
  codecs: BatchCodecs;
  /** Physical topic of an output (logical name + prefix), or of the dead-letter topic (`$deadLetter`). */
  topicFor(output: string): string;
  now(): number;
  /** Present when the processor declares stores; its changelog writes join the batch's messages. */
  state?: StateManager;
  /** The declared reference tables by name, when the processor declares any. */
  tables?: ReadonlyMap<string, TableView<unknown>>;
  /** What the definition's `open` hook returned at start. */
  resources?: unknown;
  /** Event-time progress of the input partitions; every output record carries its header. */
  time?: EventTime;
  /** The input partitions this copy holds: a timer's wall-clock tick covers them all. */
  assignedPartitions?: () => readonly number[];
}

export interface BatchResult {
  messages: OutgoingMessage[];
  /** Next offset to consume per `topic/partition`, i.e. what the transaction commits. */
  nextOffsets: Map<string, { topic: string; partition: number; offset: number }>;
  emitted: Map<string, number>;
  deadLetters: Map<string, number>;
  counted: Map<string, number>;
}

export const DEAD_LETTER_OUTPUT = '$deadLetter';
/** Reason code for input bytes the runtime could not decode (bad Avro, unknown schema id, …). */
export const UNDECODABLE_REASON = 'undecodable';
export { OUTPUT_TOO_LARGE_REASON } from './batch-context.ts';

export function processBatch(
  definition: AnyProcessorDefinition,
  records: readonly RawRecord[],
  env: BatchEnvironment,
): BatchResult {
  const result: BatchResult = {
    messages: [],
    nextOffsets: new Map(),
    emitted: new Map(),
    deadLetters: new Map(),
    counted: new Map(),
  };
  const ctx = new BatchContext(definition, env, result);
  ctx.nowMs = env.now();
  for (const raw of records) {
    result.nextOffsets.set(`${raw.topic}/${raw.partition}`, {
      topic: raw.topic,
      partition: raw.partition,
      offset: raw.offset + 1,
    });
    const record = handleOne(definition, raw, env, ctx, result);
    if (env.time !== undefined) observeTime(definition, raw, record, env.time, ctx);
  }
  if (env.time !== undefined) tickTimers(definition, records.length > 0, env, env.time, ctx, result);
  if (env.state !== undefined) result.messages.push(...env.state.changelogMessages());
  return result;
}

/**
 * The record moves its partition's event time (after the handler saw the watermark as it stood before
 * it); when the watermark moves, the timer runs before the next record, so where batches split never
 * changes what a timer sees.
 */
function observeTime(
  definition: AnyProcessorDefinition,
  raw: RawRecord,
  record: InputRecord<unknown> | undefined,
  time: EventTime,
  ctx: BatchContext,
): void {
  const fromInput = definition.eventTime?.input;
  const eventTimeMs =
    fromInput !== undefined && record !== undefined ? fromInput(record) : ctx.emittedEventTimeMs;
  const moved = time.observe(raw.partition, findWatermarkHeader(raw.headers), eventTimeMs, ctx.nowMs);
  if (moved && definition.onWatermark !== undefined) runTimer(definition, raw.partition, time, ctx);
}

/**
 * The wall-clock tick of a timer processor over every partition it holds (idle ones move on by the
 * clock). Progress is persisted with a batch of records, or with a tick whose timers wrote something;
 * a tick that changes nothing else produces no transaction.
 */
function tickTimers(
  definition: AnyProcessorDefinition,
  hadRecords: boolean,
  env: BatchEnvironment,
  time: EventTime,
  ctx: BatchContext,
  result: BatchResult,
): void {
  if (definition.onWatermark === undefined) return;
  const messagesBefore = result.messages.length;
  const savepoint = env.state?.savepoint() ?? 0;
  for (const partition of time.tick(env.assignedPartitions?.() ?? [], ctx.nowMs))
    runTimer(definition, partition, time, ctx);
  const timersWrote = result.messages.length > messagesBefore || (env.state?.savepoint() ?? 0) > savepoint;
  if (hadRecords || timersWrote) time.persist();
}

function runTimer(
  definition: AnyProcessorDefinition,
  partition: number,
  time: EventTime,
  ctx: BatchContext,
): void {
  ctx.startRecord(partition);
  definition.onWatermark?.(partition, time.watermark(partition, ctx.nowMs), ctx);
  ctx.keepRecord();
}

/** Runs the handler on one record: its emits join the batch, or a rejection becomes one dead letter. */
function handleOne(
  definition: AnyProcessorDefinition,
  raw: RawRecord,
  env: BatchEnvironment,
  ctx: BatchContext,
  result: BatchResult,
): InputRecord<unknown> | undefined {
  ctx.startRecord(raw.partition);
  const savepoint = env.state?.savepoint() ?? 0;
  let record: InputRecord<unknown> | undefined;
  try {
    record = decodeRecord(definition, raw, env);
    definition.handle(record, ctx);
  } catch (error) {
    const rejection = asRejection(error);
    if (rejection === undefined) throw error;
    if (definition.deadLetter === undefined)
      throw undeclared(
        definition,
        `rejected ${raw.topic}/${raw.partition}@${raw.offset} but declares no dead-letter topic`,
      );
    // A rejected record's partial emits, counts and state writes are dropped: it becomes exactly one dead letter.
    env.state?.rollbackTo(savepoint);
    result.messages.push(deadLetterMessage(definition.name, raw, rejection, env));
    increment(result.deadLetters, rejection.reason);
    ctx.emittedEventTimeMs = undefined;
    return record;
  }
  env.state?.keep(savepoint);
  ctx.keepRecord();
  return record;
}

function decodeRecord(
  definition: AnyProcessorDefinition,
  raw: RawRecord,
  env: BatchEnvironment,
): InputRecord<unknown> {
  const value =
    definition.input.value.kind === 'bytes'
      ? (raw.value ?? Buffer.alloc(0))
      : env.codecs.decodeInput(raw.value);
  return {
    topic: raw.topic,
    partition: raw.partition,
    offset: raw.offset,
    key: raw.key,
    value,
    timestamp: raw.timestamp,
  };
}

function asRejection(error: unknown): { reason: string; detail: string } | undefined {
  if (error instanceof ValidationError) return { reason: error.reason, detail: error.detail };
  if (error instanceof SerdeError)
    return { reason: UNDECODABLE_REASON, detail: `${error.code}: ${describeError(error)}` };
  return undefined;
}

const MAX_DETAIL_CHARS = 2000;

/** The dead letter of a rejected record, fitted to the message size limit (see fitDeadLetter). */
export function deadLetterMessage(
  processor: string,
  raw: RawRecord,
  rejection: { reason: string; detail: string },
  env: Pick<BatchEnvironment, 'codecs' | 'topicFor' | 'now' | 'config'>,
): OutgoingMessage {
  const value: DeadLetterValue = {
    reason: rejection.reason,
    detail: rejection.detail.slice(0, MAX_DETAIL_CHARS),
    source_topic: raw.topic,
    source_partition: raw.partition,
    source_offset: raw.offset,
    original_key: raw.key,
    original_value: raw.value,
    processor,
    failed_at: env.now(),
  };
  const encoded = fitDeadLetter(value, raw.key, env.config.maxMessageBytes, (v) =>
    env.codecs.encodeDeadLetter(v),
  );
  return { topic: env.topicFor(DEAD_LETTER_OUTPUT), key: raw.key, value: encoded };
}

/**
 * Encodes a dead letter so that, under `key`, it fits `limitBytes`. A dead letter carries the original
 * bytes, so the letter of a record that was near the limit is over it, and Kafka would refuse it on every
 * retry (MSG_SIZE_TOO_LARGE). Such an original keeps its first bytes, and the detail says it was truncated
 * and from how many bytes. For every writer of dead letters (processors and sinks).
 */
export function fitDeadLetter(
  value: DeadLetterValue,
  key: Buffer | null,
  limitBytes: number,
  encode: (value: DeadLetterValue) => Buffer,
): Buffer {
  const encoded = encode(value);
  const excess = messageBytes(key, encoded) - limitBytes;
  const original = value.original_value;
  if (excess <= 0 || original === null) return encoded;
  const note = `original_value truncated from ${original.length} bytes to fit the ${limitBytes}-byte message limit; `;
  // The note lengthens the detail (ASCII), and shorter lengths may shrink a varint: room for both.
  const keep = Math.max(0, original.length - excess - Buffer.byteLength(note) - 16);
  return encode({
    ...value,
    detail: (note + value.detail).slice(0, MAX_DETAIL_CHARS),
    original_value: original.subarray(0, keep),
  });
}
