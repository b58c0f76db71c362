// Reads every partition of a topic from its beginning (read_committed, assigned: outside any consumer
// group) and keeps following it, knowing the end offsets captured at start so the caller can tell when
// it has caught up and how far it is. Reference tables use it; changelog restores use readPartitionsToEnd,
// which stops at the end instead.
import { randomBytes } from 'node:crypto';
import { TributaryError } from '../errors.ts';
import { KafkaConsumer, call, toTributaryError } from './librdkafka.ts';
import { kafkaConnection } from './client-security.ts';
import type { Message, RdKafkaConsumer } from './librdkafka.ts';

const OFFSET_BEGINNING = -2;
const METADATA_TIMEOUT_MS = 10_000;
const FETCH_ERROR_BACKOFF_MS = 500;

export interface TopicFollowerSettings {
  brokers: string;
  topic: string;
  clientId: string;
  /**
   * The group id librdkafka requires of a consumer; the reader never joins nor commits under it. Give the
   * processor's own group, so that its ACLs cover the reader (librdkafka looks the group's coordinator
   * up, which takes DESCRIBE on it). Default: a random one, for a reader outside any processor.
   */
  groupId?: string;
  /** Most records handed over per batch. Default 5000. */
  maxBatchRecords?: number;
  /** How long one fetch waits to fill a batch, in ms. Default 200 (also the live-follow latency). */
  fetchWaitMs?: number;
}

export interface PartitionOffsets {
  partition: number;
  /** Next offset to read: every record before it has been handed over (and its handler settled). */
  position: number;
  /** End offset (high watermark) captured at start: caught up once position reaches it. */
  end: number;
}

/** Gets each batch (offset order per partition); the next fetch waits until the returned promise settles. */
export type BatchHandler = (messages: readonly Message[]) => Promise<void>;

export class TopicFollower {
  private readonly consumer: RdKafkaConsumer;
  private readonly offsets = new Map<number, PartitionOffsets>();
  /** End-of-partition offsets seen during a fetch; applied only once that fetch's batch is handled. */
  private readonly pendingEof = new Map<number, number>();
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly caughtUpWaiters: ((caughtUp: boolean) => void)[] = [];

  constructor(
    private readonly settings: TopicFollowerSettings,
    private readonly onBatch: BatchHandler,
    /** Called once if following stops on an error that retrying cannot fix. */
    private readonly onFatal: (error: TributaryError) => void,
  ) {
    this.consumer = new KafkaConsumer({
      ...kafkaConnection(settings.brokers),
      'client.id': settings.clientId,
      'group.id': settings.groupId ?? `tributary-follower-${randomBytes(6).toString('hex')}`,
      'enable.auto.commit': false,
      'isolation.level': 'read_committed',
      'enable.partition.eof': true,
      'auto.offset.reset': 'earliest',
      'fetch.max.bytes': 52_428_800,
      'queued.max.messages.kbytes': 16_384,
    });
    this.consumer.on('partition.eof', (eof: { partition: number; offset: number }) => {
      this.pendingEof.set(eof.partition, eof.offset);
    });
  }

  /** Connects, captures every partition's end offset, assigns them all from the beginning, starts fetching. */
  async start(): Promise<void> {
    const { topic } = this.settings;
    await call('follower connect', (done) => this.consumer.connect({}, (error) => done(error)));
    for (const partition of await this.partitionIds()) {
      const marks = await call<{ lowOffset: number; highOffset: number }>('follower watermarks', (done) => {
        this.consumer.queryWatermarkOffsets(topic, partition, METADATA_TIMEOUT_MS, (e, o) => done(e, o));
      });
      this.offsets.set(partition, { partition, position: marks.lowOffset, end: marks.highOffset });
    }
    this.consumer.assign(
      [...this.offsets.keys()].map((partition) => ({ topic, partition, offset: OFFSET_BEGINNING })),
    );
    this.consumer.setDefaultConsumeTimeout(this.settings.fetchWaitMs ?? 200);
    this.loop = this.fetchLoop().catch((error: unknown) => {
      this.stop(toTributaryError(error, `following ${topic}`));
    });
  }

  /** Whether every partition has been read up to the end offset captured at start. */
  get caughtUp(): boolean {
    for (const p of this.offsets.values()) if (p.position < p.end) return false;
    return true;
  }

  /** Resolves true once caught up (at once if already), false if following stops first. */
  whenCaughtUp(): Promise<boolean> {
    if (this.caughtUp) return Promise.resolve(true);
    if (this.stopping) return Promise.resolve(false);
    return new Promise((resolve) => this.caughtUpWaiters.push(resolve));
  }

  progress(): PartitionOffsets[] {
    return [...this.offsets.values()].map((p) => ({ ...p }));
  }

  /** Records between the position and the last high watermark the client saw, summed over partitions. */
  lag(): number {
    let lag = 0;
    for (const p of this.offsets.values()) {
      let high = p.end;
      try {
        high = Math.max(high, this.consumer.getWatermarkOffsets(this.settings.topic, p.partition).highOffset);
      } catch {
        // No fetch answered yet for this partition: the end captured at start is the best known.
      }
      lag += Math.max(0, high - p.position);
    }
    return lag;
  }

  /** Stops fetching (after the batch in hand is handled) and disconnects. */
  async close(): Promise<void> {
    this.stopping = true;
    await this.loop;
    this.settleWaiters(false);
    if (this.consumer.isConnected()) {
      await call('follower disconnect', (done) => this.consumer.disconnect((error) => done(error)));
    }
  }

  private async partitionIds(): Promise<number[]> {
    const { topic } = this.settings;
    const metadata = await call<{ topics: { name: string; partitions: { id: number }[] }[] }>(
      'follower metadata',
      (done) => {
        this.consumer.getMetadata({ topic, timeout: METADATA_TIMEOUT_MS }, (e, m) => done(e, m));
      },
    );
    const partitions = metadata.topics.find((t) => t.name === topic)?.partitions ?? [];
    if (partitions.length === 0) {
      throw new TributaryError('TRIBUTARY_KAFKA_TOPIC_MISSING', `topic ${topic} does not exist`, {
        context: { topic },
      });
    }
    return partitions.map((p) => p.id).sort((a, b) => a - b);
  }

  private async fetchLoop(): Promise<void> {
    const max = this.settings.maxBatchRecords ?? 5000;
    // The topic in the operation: a refusal (an ACL missing) then names what it was refused on.
    const operation = `following ${this.settings.topic}`;
    while (!this.stopping) {
      let messages: Message[];
      try {
        messages = await call<Message[]>(operation, (done) =>
          this.consumer.consume(max, (error, batch) => done(error, batch)),
        );
      } catch (error) {
        const failure = toTributaryError(error, operation);
        if (!failure.retryable) return this.stop(failure);
        await new Promise((resolve) => setTimeout(resolve, FETCH_ERROR_BACKOFF_MS));
        continue;
      }
      try {
        if (messages.length > 0) await this.onBatch(messages);
      } catch (error) {
        return this.stop(
          error instanceof TributaryError
            ? error
            : new TributaryError('TRIBUTARY_KAFKA_FATAL', `following ${this.settings.topic}`, {
                cause: error,
              }),
        );
      }
      this.advance(messages);
    }
  }

  private advance(messages: readonly Message[]): void {
    for (const message of messages) {
      const p = this.offsets.get(message.partition);
      if (p !== undefined && message.offset >= p.position) p.position = message.offset + 1;
    }
    // The end-of-partition offset also moves past records a reader never gets (transaction markers).
    for (const [partition, offset] of this.pendingEof) {
      const p = this.offsets.get(partition);
      if (p !== undefined && offset > p.position) p.position = offset;
    }
    this.pendingEof.clear();
    if (this.caughtUp) this.settleWaiters(true);
  }

  private settleWaiters(caughtUp: boolean): void {
    for (const resolve of this.caughtUpWaiters.splice(0)) resolve(caughtUp);
  }

  private stop(error: TributaryError): void {
    this.stopping = true;
    this.onFatal(error);
    this.settleWaiters(false);
  }
}
