// Promise API over a transactional librdkafka producer: begin, produce, send offsets, commit or abort.
import type { MessageHeader, RdKafkaConsumer, RdKafkaProducer, TopicPartitionOffset } from './librdkafka.ts';
import { ERR, Producer, call, toTributaryError } from './librdkafka.ts';
import type { ProducerSettings } from './client-config.ts';
import { producerConfig } from './client-config.ts';

export interface OutgoingMessage {
  topic: string;
  /** Explicit partition (changelogs follow their input partition); unset: by key. */
  partition?: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp?: number;
  headers?: MessageHeader[];
}

const OPERATION_TIMEOUT_MS = 60_000;

export class TransactionalProducer {
  private readonly producer: RdKafkaProducer;
  private inTransaction = false;

  constructor(settings: ProducerSettings & { transactionalId: string }) {
    this.producer = new Producer(producerConfig(settings));
  }

  get transactionOpen(): boolean {
    return this.inTransaction;
  }

  async connect(): Promise<void> {
    await call('producer connect', (done) => this.producer.connect({}, (error) => done(error)));
    this.producer.setPollInBackground(true);
    // Fences any older producer with our transactional id and aborts its dangling transaction.
    await call('initTransactions', (done) => this.producer.initTransactions(OPERATION_TIMEOUT_MS, done));
  }

  async begin(): Promise<void> {
    await call('beginTransaction', (done) => this.producer.beginTransaction(done));
    this.inTransaction = true;
  }

  /** Enqueues one message; waits while librdkafka's local queue is full instead of failing. */
  async produce(message: OutgoingMessage): Promise<void> {
    for (;;) {
      try {
        this.producer.produce(
          message.topic,
          message.partition ?? null,
          message.value,
          message.key,
          message.timestamp ?? null,
          undefined,
          message.headers,
        );
        return;
      } catch (error) {
        if ((error as { code?: number }).code !== ERR.ERR__QUEUE_FULL)
          throw toTributaryError(error, 'produce');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  }

  async sendOffsets(offsets: TopicPartitionOffset[], consumer: RdKafkaConsumer): Promise<void> {
    await call('sendOffsetsToTransaction', (done) =>
      this.producer.sendOffsetsToTransaction(offsets, consumer, OPERATION_TIMEOUT_MS, done),
    );
  }

  async commit(): Promise<void> {
    await call('commitTransaction', (done) => this.producer.commitTransaction(OPERATION_TIMEOUT_MS, done));
    this.inTransaction = false;
  }

  async abort(): Promise<void> {
    if (!this.inTransaction) return;
    await call('abortTransaction', (done) => this.producer.abortTransaction(OPERATION_TIMEOUT_MS, done));
    this.inTransaction = false;
  }

  async disconnect(): Promise<void> {
    if (!this.producer.isConnected()) return;
    await call('producer disconnect', (done) => this.producer.disconnect(10_000, (error) => done(error)));
  }
}
