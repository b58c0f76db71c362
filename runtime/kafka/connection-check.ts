// Why a connection to Kafka fails, when the clients say only "broker transport failure": a wrong SASL
// password and an untrusted certificate look like an unreachable broker there, and a starting process
// would wait its whole deadline for a broker that will never let it in.
//
// librdkafka reports the real cause as an error event (ERR__AUTHENTICATION, ERR__SSL), but the binding
// passes on only err2str(code), not the code (src/callbacks.cc: `message = RdKafka::err2str(event.err())`,
// then `Nan::Error(message)`), and LibrdKafkaError parses that into code -1 and a lower-cased name. So
// the code is recovered by comparing with the binding's own name of each code we look for. The detail
// (which certificate check failed) is only in librdkafka's FAIL log line: it is quoted, not classified.
import LibrdKafkaError from '@confluentinc/kafka-javascript/lib/error.js';
import { TributaryError } from '../errors.ts';
import { ERR, Producer } from './librdkafka.ts';
import type { ClientLogEvent } from './client-logs.ts';
import { kafkaConnection, kafkaSecurity } from './client-security.ts';

const CHECK_TIMEOUT_MS = 3000;

/** What an error event for `code` looks like after the binding (see above). */
const eventNameOf = (code: number): string =>
  // Not a throw: the binding's own error-event shape, rebuilt to learn the name it gives `code`.
  // eslint-disable-next-line no-restricted-syntax
  LibrdKafkaError.create(new Error(LibrdKafkaError.create(code).message)).message;

const AUTHENTICATION = new Set(
  [ERR.ERR__AUTHENTICATION, ERR.ERR_SASL_AUTHENTICATION_FAILED].map(eventNameOf),
);
const TLS = new Set([eventNameOf(ERR.ERR__SSL)]);

function authenticationFailed(brokers: string, detail: string): TributaryError {
  const user = kafkaSecurity()['sasl.username'] ?? '(none)';
  const mechanism = kafkaSecurity()['sasl.mechanisms'] ?? '(none)';
  return new TributaryError(
    'TRIBUTARY_KAFKA_AUTHENTICATION_FAILED',
    `Kafka at ${brokers}: authentication failed for SASL user "${user}" (${mechanism}): ${detail}. ` +
      'Check TRIBUTARY_KAFKA_SASL_USERNAME, TRIBUTARY_KAFKA_SASL_PASSWORD (or its _FILE) and ' +
      'TRIBUTARY_KAFKA_SASL_MECHANISM.',
    { context: { brokers, user, mechanism } },
  );
}

function tlsFailed(brokers: string, detail: string): TributaryError {
  const ca = kafkaSecurity()['ssl.ca.location'] ?? 'the system CAs';
  return new TributaryError(
    'TRIBUTARY_KAFKA_TLS_FAILED',
    `Kafka at ${brokers}: the TLS handshake failed, trusting ${ca}: ${detail}. Check that ` +
      "TRIBUTARY_KAFKA_SSL_CA_FILE names the CA that signed the brokers' certificates, that " +
      'TRIBUTARY_KAFKA_SECURITY_PROTOCOL matches the listener, and the host name the certificate is for.',
    { context: { brokers, caFile: ca } },
  );
}

/** The permanent reason Kafka at `brokers` refuses this process, or undefined if none shows. */
export async function whyKafkaRefuses(brokers: string): Promise<TributaryError | undefined> {
  // Over plaintext there is no login or certificate to refuse: no check, no delay for a broker that is down.
  if (kafkaSecurity()['security.protocol'] === undefined) return undefined;
  let refusal: 'authentication' | 'tls' | undefined;
  let lastFailure = '';
  // A producer, not an admin client: the binding delivers no error events for an admin client.
  const probe = new Producer({ ...kafkaConnection(brokers), 'client.id': 'tributary-connection-check' });
  probe.on('event.error', (error: { message: string }) => {
    if (AUTHENTICATION.has(error.message)) refusal ??= 'authentication';
    else if (TLS.has(error.message)) refusal ??= 'tls';
  });
  probe.on('event.log', (event: ClientLogEvent) => {
    if (event.fac === 'FAIL') lastFailure = event.message.replace(/^\[thrd:[^\]]*\]: /, '');
  });
  // One metadata request: it answers, or fails within the timeout with the events above on the way.
  // Error events come out of librdkafka only when the client is polled, which the binding starts only
  // once connected: poll while it tries.
  const polling = setInterval(() => probe.isConnected() && probe.poll(), 100);
  await new Promise<void>((resolve) => probe.connect({ timeout: CHECK_TIMEOUT_MS }, () => resolve()));
  clearInterval(polling);
  if (probe.isConnected()) await new Promise<void>((resolve) => probe.disconnect(() => resolve()));
  if (refusal === 'authentication') return authenticationFailed(brokers, lastFailure || 'refused');
  if (refusal === 'tls') return tlsFailed(brokers, lastFailure || 'refused');
  return undefined;
}
