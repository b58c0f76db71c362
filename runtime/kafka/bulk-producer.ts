// A fast plain (non-transactional) idempotent producer: enqueue without awaiting, one delivery report
// per record so the caller can count what the broker acknowledged. For the load generator, reference
// data loads and tests; processors use the TransactionalProducer.
//
// The client library hands delivery reports to JavaScript at most 100 per turn of the event loop. A
// caller producing in a tight loop must yield every hundred records or so (setImmediate), or reports
// pile up in the library's unbounded queue; `maxInFlight` bounds that by making `tryProduce` refuse.
import { TributaryError } from '../errors.ts';
import type { LibrdKafkaError, RdKafkaProducer } from './librdkafka.ts';
import { ERR, Producer, call, toTributaryError } from './librdkafka.ts';
import type { ProducerSettings } from './client-config.ts';
import { producerConfig } from './client-config.ts';

export interface BulkProducerSettings {
  brokers: string;
  clientId: string;
  /** How long librdkafka waits to fill a batch, in ms. Default 10. */
  lingerMs?: number;
  /** How often delivery reports are collected on the event loop, in ms. Default 5. */
  pollIntervalMs?: number;
  /** How long a record may wait for its acknowledgement (retries included) before it fails, in ms. Default 120 000. */
  deliveryTimeoutMs?: number;
  /** Most records waiting in the local queue; produce waits beyond it. Default 100 000. */
  maxQueuedRecords?: number;
  /** Most records produced and not yet reported on; produce waits beyond it. Default 100 000. */
  maxInFlight?: number;
}

/** Called once per produced record: `error` undefined means the broker acknowledged it. */
export type DeliveryListener<T> = (error: TributaryError | undefined, opaque: T) => void;

/** The parts of the client's delivery report this class reads. */
interface DeliveryReport {
  topic: string;
  opaque?: unknown;
}

const QUEUE_FULL_WAIT_MS = 2;
const FLUSH_STEP_MS = 1000;

export class BulkProducer<T> {
  private readonly producer: RdKafkaProducer;
  private readonly pollIntervalMs: number;
  private readonly maxInFlight: number;
  private sent = 0;
  private reported = 0;
  private failures = 0;
  private fatal: TributaryError | undefined;

  constructor(
    settings: BulkProducerSettings,
    private readonly onDelivery: DeliveryListener<T>,
  ) {
    const base: ProducerSettings = {
      brokers: settings.brokers,
      clientId: settings.clientId,
      lingerMs: settings.lingerMs ?? 10,
    };
    this.producer = new Producer({
      ...producerConfig(base),
      'message.timeout.ms': settings.deliveryTimeoutMs ?? 120_000,
      'queue.buffering.max.messages': settings.maxQueuedRecords ?? 100_000,
      'batch.num.messages': 10_000,
      dr_cb: true,
    });
    this.pollIntervalMs = settings.pollIntervalMs ?? 5;
    this.maxInFlight = settings.maxInFlight ?? 100_000;
    this.producer.on('delivery-report', (error: LibrdKafkaError | null | undefined, report: DeliveryReport) =>
      this.onReport(error, report),
    );
    this.producer.on('event.error', (error: LibrdKafkaError & { isFatal?: boolean }) => {
      if (error.isFatal === true) this.fatal ??= toTributaryError(error, 'bulk producer');
    });
  }

  /** Records handed to librdkafka and not yet reported on. */
  get inFlight(): number {
    return this.sent - this.reported;
  }

  get produced(): number {
    return this.sent;
  }

  get failed(): number {
    return this.failures;
  }

  get acknowledged(): number {
    return this.reported - this.failures;
  }

  async connect(): Promise<void> {
    await call('bulk producer connect', (done) => this.producer.connect({}, (error) => done(error)));
    this.producer.setPollInterval(this.pollIntervalMs);
  }

  /**
   * Enqueues one record without waiting; false when librdkafka's local queue is full or `maxInFlight`
   * records await their reports (nothing was enqueued: call again later, or use `produce`). Other
   * errors throw.
   */
  tryProduce(
    topic: string,
    key: string | Buffer | null,
    value: Buffer | null,
    opaque: T,
    timestamp?: number,
  ): boolean {
    if (this.fatal !== undefined) throw this.fatal;
    if (this.sent - this.reported >= this.maxInFlight) return false;
    try {
      this.producer.produce(topic, null, value, key, timestamp ?? null, opaque);
    } catch (error) {
      if ((error as { code?: number }).code === ERR.ERR__QUEUE_FULL) return false;
      throw toTributaryError(error, `produce to ${topic}`);
    }
    this.sent++;
    return true;
  }

  /** Enqueues one record, waiting only while the local queue is full or `maxInFlight` records are unreported. */
  async produce(
    topic: string,
    key: string | Buffer | null,
    value: Buffer | null,
    opaque: T,
    /** The record's timestamp, epoch ms; default the producer's clock. */
    timestamp?: number,
  ): Promise<void> {
    while (!this.tryProduce(topic, key, value, opaque, timestamp)) {
      await new Promise((resolve) => setTimeout(resolve, QUEUE_FULL_WAIT_MS));
    }
  }

  /** Waits until every record produced so far has its delivery report (acknowledged or failed). */
  async flush(timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0) {
      if (this.fatal !== undefined) throw this.fatal;
      if (Date.now() > deadline) {
        throw new TributaryError(
          'TRIBUTARY_KAFKA_TRANSIENT',
          `flush: ${this.inFlight} records still unacknowledged after ${timeoutMs} ms`,
        );
      }
      try {
        await call('flush', (done) => this.producer.flush(FLUSH_STEP_MS, (error) => done(error)));
      } catch (error) {
        // A flush step that times out only means more is still on its way; the loop checks again.
        if (!(error instanceof TributaryError) || error.code !== 'TRIBUTARY_KAFKA_TRANSIENT') throw error;
      }
      // Delivery reports arrive through poll: give the interval a turn before counting again.
      this.producer.poll();
      await new Promise((resolve) => setTimeout(resolve, this.pollIntervalMs));
    }
  }

  /** Flushes, then disconnects. */
  async close(timeoutMs = 300_000): Promise<void> {
    if (!this.producer.isConnected()) return;
    try {
      await this.flush(timeoutMs);
    } finally {
      this.producer.setPollInterval(0);
      await call('bulk producer disconnect', (done) =>
        this.producer.disconnect(10_000, (error) => done(error)),
      );
    }
  }

  private onReport(error: LibrdKafkaError | null | undefined, report: DeliveryReport): void {
    this.reported++;
    if (error === undefined || error === null) {
      this.onDelivery(undefined, report.opaque as T);
      return;
    }
    this.failures++;
    this.onDelivery(toTributaryError(error, `deliver to ${report.topic}`), report.opaque as T);
  }
}
