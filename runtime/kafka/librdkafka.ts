// The one import of the Kafka client library; everything else in the runtime goes through this folder.
import kafka from '@confluentinc/kafka-javascript';
import type { LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { TributaryError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';

import { logClientEvent } from './client-logs.ts';
import type { ClientLogEvent } from './client-logs.ts';

export const { CODES, KafkaJS } = kafka;

type ConsumerConf = ConstructorParameters<typeof kafka.KafkaConsumer>;
type ProducerConf = ConstructorParameters<typeof kafka.Producer>;

/** librdkafka's consumer with its log lines routed through pino (see client-logs.ts). */
export class KafkaConsumer extends kafka.KafkaConsumer {
  constructor(...conf: ConsumerConf) {
    super(...conf);
    this.on('event.log', (event: ClientLogEvent) => logClientEvent(event));
  }
}

/** librdkafka's producer with its log lines routed through pino (see client-logs.ts). */
export class Producer extends kafka.Producer {
  constructor(...conf: ProducerConf) {
    super(...conf);
    this.on('event.log', (event: ClientLogEvent) => logClientEvent(event));
  }
}
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

/** The record itself is too big for the client's or the topic's limit: resending it never works. */
const TOO_LARGE_CODES = new Set<number>([ERR.ERR_MSG_SIZE_TOO_LARGE, ERR.ERR_RECORD_LIST_TOO_LARGE]);

/** Retrying cannot fix these: the broker refuses who we are, what we send, or how we ask. */
/** The authorizer refuses a right (an ACL): someone must grant it, so the process stops with exit 2. */
const AUTHORIZATION_CODES = new Set<number>([
  ERR.ERR_TOPIC_AUTHORIZATION_FAILED,
  ERR.ERR_GROUP_AUTHORIZATION_FAILED,
  ERR.ERR_CLUSTER_AUTHORIZATION_FAILED,
  ERR.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
]);

const PERMANENT_CODES = new Set<number>([
  ERR.ERR_INVALID_RECORD,
  ERR.ERR_TOPIC_EXCEPTION, // an illegal topic name
  ERR.ERR_SASL_AUTHENTICATION_FAILED,
  ERR.ERR__AUTHENTICATION,
  ERR.ERR__SSL,
  ERR.ERR_INVALID_CONFIG,
  ERR.ERR_POLICY_VIOLATION,
  ERR.ERR_INVALID_REQUIRED_ACKS,
  ERR.ERR_UNSUPPORTED_VERSION,
  ERR.ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT,
  ERR.ERR__UNSUPPORTED_FEATURE,
  ERR.ERR__INVALID_ARG,
  ERR.ERR__NOT_CONFIGURED,
]);

interface ClientErrorFlags {
  isFatal?: boolean;
  isRetriable?: boolean;
  isTxnRequiresAbort?: boolean;
  /** The KafkaJS-style layer (admin) names the flags differently. */
  fatal?: boolean;
  retriable?: boolean;
  abortable?: boolean;
}

function isLibrdKafkaError(error: unknown): error is LibrdKafkaError & ClientErrorFlags {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number';
}

type KafkaErrorCode = Extract<ErrorCode, `TRIBUTARY_KAFKA_${string}`>;

/** By code first (a too-large record stays permanent even when librdkafka also asks for an abort). */
export function kafkaErrorCode(code: number, flags: ClientErrorFlags): KafkaErrorCode {
  if (FENCED_CODES.has(code)) return 'TRIBUTARY_KAFKA_FENCED';
  if (TOO_LARGE_CODES.has(code)) return 'TRIBUTARY_KAFKA_RECORD_TOO_LARGE';
  if (AUTHORIZATION_CODES.has(code)) return 'TRIBUTARY_KAFKA_NOT_AUTHORIZED';
  if (PERMANENT_CODES.has(code)) return 'TRIBUTARY_KAFKA_PERMANENT';
  // The instance failed earlier (fenced, say) and every call now says so, without flags: not transient.
  if (code === ERR.ERR__FATAL) return 'TRIBUTARY_KAFKA_FATAL';
  if (flags.isFatal === true || flags.fatal === true) return 'TRIBUTARY_KAFKA_FATAL';
  if (flags.isTxnRequiresAbort === true || flags.abortable === true) return 'TRIBUTARY_KAFKA_ABORTABLE';
  // Retriable by librdkafka's flag, and every other non-fatal code (broker down, timeouts, unknown
  // topic while metadata propagates): the loop retries with backoff, bounded where it counts attempts.
  return 'TRIBUTARY_KAFKA_TRANSIENT';
}

const EXPLANATIONS: Partial<Record<KafkaErrorCode, string>> = {
  TRIBUTARY_KAFKA_FENCED: 'fenced by a newer copy with the same transactional id',
  TRIBUTARY_KAFKA_RECORD_TOO_LARGE: 'a record exceeds the message size limit and can never be written',
  TRIBUTARY_KAFKA_PERMANENT: 'the broker refuses this for good; retrying cannot help',
};

/** The ACL a refused request lacks, by librdkafka code (README, "Least ACLs"). */
const MISSING_RIGHTS: Partial<Record<number, string>> = {
  [ERR.ERR_TOPIC_AUTHORIZATION_FAILED]:
    'not authorized: this Kafka user lacks a right on a topic (READ and DESCRIBE on inputs, reference ' +
    'tables and changelogs, WRITE and DESCRIBE on outputs, dead letters and changelogs; CREATE to create them)',
  [ERR.ERR_GROUP_AUTHORIZATION_FAILED]:
    'not authorized: this Kafka user lacks READ (and DESCRIBE) on its consumer group (Group <prefix><processor>)',
  [ERR.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED]:
    'not authorized: this Kafka user lacks WRITE (and DESCRIBE) on TransactionalId <prefix><processor>- ' +
    '(pattern PREFIXED)',
  [ERR.ERR_CLUSTER_AUTHORIZATION_FAILED]:
    'not authorized: this Kafka user lacks a right on the cluster (IDEMPOTENT_WRITE on brokers before Kafka 3.0)',
};

/** Maps a client error to the catalogue by its librdkafka code; see kafkaErrorCode. */
export function toTributaryError(error: unknown, operation: string): TributaryError {
  if (error instanceof TributaryError) return error;
  if (!isLibrdKafkaError(error)) {
    return new TributaryError('TRIBUTARY_KAFKA_FATAL', `${operation}: ${String(error)}`, { cause: error });
  }
  const code = kafkaErrorCode(error.code, error);
  const explanation = MISSING_RIGHTS[error.code] ?? EXPLANATIONS[code];
  const message = `${operation}: ${explanation === undefined ? '' : `${explanation} (`}${error.message}${explanation === undefined ? '' : ')'}`;
  return new TributaryError(code, message, { cause: error, context: { operation, kafkaCode: error.code } });
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
