// Reads partitions from their beginning to their current end (read_committed), outside any group:
// used to restore state from changelogs and by tests to read a topic back.
import { TributaryError } from '../errors.ts';
import { randomBytes } from 'node:crypto';
import { KafkaConsumer, call } from './librdkafka.ts';
import type { Message } from './librdkafka.ts';
import { kafkaConnection } from './client-security.ts';

const OFFSET_BEGINNING = -2;

export interface ReadToEndOptions {
  brokers: string;
  topic: string;
  partitions: readonly number[];
  timeoutMs?: number;
  /**
   * The group id librdkafka requires of a consumer; the reader never joins nor commits under it. Give the
   * processor's own group, so that its ACLs cover the reader (librdkafka looks the group's coordinator
   * up, which takes DESCRIBE on it). Default: a random one, for a reader outside any processor.
   */
  groupId?: string;
}

/** Calls `onMessage` for every committed record of the partitions, in offset order per partition. */
export async function readPartitionsToEnd(
  options: ReadToEndOptions,
  onMessage: (message: Message) => void,
): Promise<void> {
  if (options.partitions.length === 0) return;
  const consumer = new KafkaConsumer({
    ...kafkaConnection(options.brokers),
    'group.id': options.groupId ?? `tributary-reader-${randomBytes(6).toString('hex')}`,
    'enable.auto.commit': false,
    'isolation.level': 'read_committed',
    'enable.partition.eof': true,
    'auto.offset.reset': 'earliest',
    'fetch.max.bytes': 52_428_800,
  });
  await call('reader connect', (done) => consumer.connect({}, (error) => done(error)));
  const atEnd = new Set<number>();
  // Data and end-of-partition events arrive in order; a batch array would lose that interleaving.
  consumer.on('partition.eof', (eof: { partition: number }) => atEnd.add(eof.partition));
  consumer.on('data', (message: Message) => {
    atEnd.delete(message.partition);
    onMessage(message);
  });
  try {
    consumer.assign(
      options.partitions.map((partition) => ({ topic: options.topic, partition, offset: OFFSET_BEGINNING })),
    );
    consumer.setDefaultConsumeTimeout(100);
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    while (atEnd.size < options.partitions.length) {
      if (Date.now() > deadline) {
        throw new TributaryError(
          'TRIBUTARY_KAFKA_TIMED_OUT',
          `reading ${options.topic}: only ${atEnd.size}/${options.partitions.length} partitions reached their end in time`,
        );
      }
      // The topic in the operation: a refusal (an ACL missing) then names what it was refused on.
      await call<Message[]>(`reading ${options.topic}`, (done) =>
        consumer.consume(10_000, (error, messages) => done(error, messages)),
      );
    }
  } finally {
    await call('reader disconnect', (done) => consumer.disconnect((error) => done(error)));
  }
}
