// The one import of the Kafka client library; everything else in the runtime goes through this folder.
import kafka from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { TributaryError } from '../errors.ts';

export const { KafkaConsumer, Producer, CODES, KafkaJS } = kafka;
export type {
  KafkaConsumer as RdKafkaConsumer,
  Producer as RdKafkaProducer,
  Message,
  TopicPartition,
  TopicPartitionOffset,
  LibrdKafkaError,
  MessageHeader,
} from '@confluentinc/kafka-javascript';

export const ERR = CODES.ERRORS;

const FENCED_CODES = new Set<number>([
  ERR.ERR__FENCED,
  ERR.ERR_PRODUCER_FENCED,
  ERR.ERR_INVALID_PRODUCER_EPOCH,
]);

function isLibrdKafkaError(
  error: unknown,
): error is LibrdKafkaError & { isFatal?: boolean; isRetriable?: boolean; isTxnRequiresAbort?: boolean } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number';
}

/** Maps a client error to the catalogue: fenced (a newer copy took over), fatal, or transient. */
export function toTributaryError(error: unknown, operation: string): TributaryError {
  if (error instanceof TributaryError) return error;
  if (!isLibrdKafkaError(error)) {
    return new TributaryError('TRIBUTARY_KAFKA_FATAL', `${operation}: ${String(error)}`, { cause: error });
  }
  const context = { operation, kafkaCode: error.code };
  if (FENCED_CODES.has(error.code)) {
    return new TributaryError(
      'TRIBUTARY_KAFKA_FENCED',
      `${operation}: fenced by a newer copy with the same transactional id (${error.message})`,
      { cause: error, context },
    );
  }
  if (error.isFatal === true) {
    return new TributaryError('TRIBUTARY_KAFKA_FATAL', `${operation}: ${error.message}`, {
      cause: error,
      context,
    });
  }
  // Abortable and retriable errors are transient for the loop: abort, rewind and try the batch again.
  return new TributaryError('TRIBUTARY_KAFKA_TRANSIENT', `${operation}: ${error.message}`, {
    cause: error,
    context,
  });
}

/** Wraps a node-style callback API into a promise whose rejection is already classified. */
export function call<T = void>(
  operation: string,
  start: (done: (error: unknown, value?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    start((error, value) => {
      if (error !== null && error !== undefined) reject(toTributaryError(error, operation));
      else resolve(value as T);
    });
  });
}
