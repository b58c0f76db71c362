// Runs a handler over one consumed batch and turns the result into the messages of one transaction.
// Pure apart from the handler itself: the Kafka loop and the in-memory harness both call it.
import { SerdeError, ValidationError, describeError } from '../errors.ts';
import type { Logger } from '../observability/index.ts';
import type { AnyProcessorDefinition, InputRecord, TableView } from './definition.ts';
import { undeclared } from './definition-checks.ts';
import { BatchContext, increment, messageBytes } from './batch-context.ts';
import type { OutgoingMessage } from '../kafka/index.ts';
import type { RuntimeConfig } from '../config/index.ts';
import type { StateManager } from '../state/index.ts';
import type { DeadLetter } from '../contracts/records.ts';

export interface RawRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
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
  for (const raw of records) {
    result.nextOffsets.set(`${raw.topic}/${raw.partition}`, {
      topic: raw.topic,
      partition: raw.partition,
      offset: raw.offset + 1,
    });
    handleOne(definition, raw, env, ctx, result);
  }
  if (env.state !== undefined) result.messages.push(...env.state.changelogMessages());
  return result;
}

/** Runs the handler on one record: its emits join the batch, or a rejection becomes one dead letter. */
function handleOne(
  definition: AnyProcessorDefinition,
  raw: RawRecord,
  env: BatchEnvironment,
  ctx: BatchContext,
  result: BatchResult,
): void {
  ctx.startRecord(raw.partition);
  const savepoint = env.state?.savepoint() ?? 0;
  try {
    definition.handle(decodeRecord(definition, raw, env), ctx);
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
    return;
  }
  ctx.keepRecord();
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
