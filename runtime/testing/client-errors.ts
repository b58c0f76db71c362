// A failure as the Kafka client's native binding hands it to a callback: an Error carrying librdkafka's
// code and the rd_kafka_error_t flags. Tests inject it where the binding would, so the runtime's own
// classification (runtime/kafka/librdkafka.ts) turns it into a catalogue error as in production.

export interface ClientErrorFlags {
  isFatal?: boolean;
  isRetriable?: boolean;
  isTxnRequiresAbort?: boolean;
}

export function clientError(code: number, flags: ClientErrorFlags = {}, message?: string): Error {
  return Object.assign(new Error(message ?? `librdkafka error ${code}`), { code, ...flags });
}
