// What a sink already wrote, read back from Kafka: the records of the assigned partitions below their
// committed offsets, decoded as the loop decodes them. For a connector that keeps in-memory state about
// its writes that must survive a restart and follow the partitions (the notifier's firing alerts);
// meant for small topics, as it reads each partition from its beginning.
import { SerdeError } from '../../errors.ts';
import { readPartitionsToEnd } from '../../kafka/index.ts';
import type { Message } from '../../kafka/index.ts';
import type { SinkCodecs } from './sink-codecs.ts';
import type { SinkPartition, SinkRecord } from './sink-definition.ts';
import type { BoundTopic } from './sink-flush.ts';

export interface SinkHistorySource {
  brokers: string;
  /** The sink's group: its ACLs cover the reader, which never joins it (ReadToEndOptions.groupId). */
  groupId?: string;
  codecs: SinkCodecs;
  /** Physical topic → its binding. */
  bound: ReadonlyMap<string, BoundTopic>;
}

/** Records below each partition's committed offset, in offset order per partition; undecodable ones left out. */
export async function readCommitted(
  source: SinkHistorySource,
  partitions: readonly SinkPartition[],
): Promise<SinkRecord[]> {
  const records: SinkRecord[] = [];
  for (const [topic, committed] of committedByTopic(partitions)) {
    const binding = source.bound.get(topic)?.binding;
    if (binding === undefined) continue;
    const messages: Message[] = [];
    const reader = { brokers: source.brokers, topic, partitions: [...committed.keys()] };
    const options = source.groupId === undefined ? reader : { ...reader, groupId: source.groupId };
    await readPartitionsToEnd(options, (m) => {
      if (m.offset < (committed.get(m.partition) ?? 0)) messages.push(m);
    });
    await source.codecs.prepare(messages.map((m) => ({ topic, value: m.value ?? null })));
    for (const { partition, offset, timestamp, value } of messages) {
      try {
        const decoded = source.codecs.decode(topic, value ?? null);
        records.push({ binding, topic, partition, offset, timestamp: timestamp ?? 0, value: decoded });
      } catch (error) {
        // Dead-lettered as undecodable when it was consumed: nothing of it was written.
        if (!(error instanceof SerdeError) || error.retryable) throw error;
      }
    }
  }
  return records;
}

/** Partitions with anything committed, grouped by topic: partition → committed offset. */
function committedByTopic(partitions: readonly SinkPartition[]): Map<string, Map<number, number>> {
  const byTopic = new Map<string, Map<number, number>>();
  for (const { topic, partition, committed } of partitions) {
    if (committed <= 0) continue;
    const offsets = byTopic.get(topic) ?? new Map<number, number>();
    offsets.set(partition, committed);
    byTopic.set(topic, offsets);
  }
  return byTopic;
}
