// What a sink flush's offsets transaction carries besides the rows: the dead letters of records the store
// rejected, and the next offsets (past the batch's records and any transaction markers skipped).
import type { OutgoingMessage, TopicPartitionOffset } from '../../kafka/index.ts';
import type { DeadLetterValue } from '../processor/batch.ts';
import { fitDeadLetter } from '../processor/batch.ts';
import type { SinkCodecs } from './sink-codecs.ts';
import type { Rejection } from './sink-flush.ts';
import { partitionKeyOf } from './sink-flush.ts';

/** The dead letter of a record the store rejected, fitted to the message size limit like a processor's. */
export function deadLetterFor(
  rejection: Rejection,
  processor: string,
  maxMessageBytes: number,
  codecs: SinkCodecs,
): OutgoingMessage {
  const { message, deadLetterTopic } = rejection;
  const key = message.key === undefined || message.key === null ? null : Buffer.from(message.key);
  const value: DeadLetterValue = {
    reason: rejection.reason,
    detail: rejection.detail.slice(0, 2000),
    source_topic: message.topic,
    source_partition: message.partition,
    source_offset: message.offset,
    original_key: key,
    original_value: message.value ?? null,
    processor,
    failed_at: Date.now(),
  };
  const encoded = fitDeadLetter(value, key, maxMessageBytes, (v) =>
    codecs.encodeDeadLetter(deadLetterTopic, v),
  );
  return { topic: deadLetterTopic, key, value: encoded };
}

/** Next offsets to commit: past each batch record, and past markers the consumer has already skipped. */
export function mergePositions(
  fromRecords: readonly TopicPartitionOffset[],
  positions: ReadonlyMap<string, number>,
): TopicPartitionOffset[] {
  const merged = new Map(fromRecords.map((o) => [partitionKeyOf(o.topic, o.partition), { ...o }]));
  for (const [key, offset] of positions) {
    const current = merged.get(key);
    if (current !== undefined) current.offset = Math.max(current.offset, offset);
    else {
      const slash = key.lastIndexOf('/');
      merged.set(key, { topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)), offset });
    }
  }
  return [...merged.values()];
}
