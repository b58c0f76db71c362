// Every log line of the Kafka client library (librdkafka's own, and the KafkaJS-style admin's) goes
// through pino as a structured record, never to the console as a raw object. One sink per process: the
// process lifecycle points it at its logger once; until then (tools, tests) a JSON logger at warn.
import type { KafkaJS as KafkaJSTypes } from '@confluentinc/kafka-javascript';
import { createLogger } from '../observability/index.ts';
import type { Logger } from '../observability/index.ts';

let sink: Logger | undefined;

/** Sends the client library's logs of this process to `log` (a child named `kafka-client`). */
export function setClientLogger(log: Logger): void {
  sink = log.child({ component: 'kafka-client' });
}

function clientLogger(): Logger {
  sink ??= createLogger({ name: 'kafka-client', level: 'warn', pretty: false });
  return sink;
}

/** librdkafka's log event: syslog severity (0 emergency … 7 debug), facility and text. */
export interface ClientLogEvent {
  severity: number;
  fac: string;
  message: string;
  name: string;
}

export function logClientEvent(event: ClientLogEvent): void {
  const log = clientLogger();
  const fields = { client: event.name, facility: event.fac, severity: event.severity };
  if (event.severity <= 3) log.error(fields, event.message);
  else if (event.severity === 4) log.warn(fields, event.message);
  else if (event.severity <= 6) log.info(fields, event.message);
  else log.debug(fields, event.message);
}

type KafkaJsLogger = KafkaJSTypes.Logger;

/** The `kafkaJS.logger` for admin clients: the same sink, so their lines are pino records too. */
export function kafkaJsLogger(): KafkaJsLogger {
  const write =
    (level: 'error' | 'warn' | 'info' | 'debug') =>
    (message: string, extra?: object): void => {
      const { fac, name } = (extra ?? {}) as { fac?: string; name?: string };
      clientLogger()[level]({ client: name, facility: fac }, message);
    };
  const logger: KafkaJsLogger = {
    error: write('error'),
    warn: write('warn'),
    info: write('info'),
    debug: write('debug'),
    namespace: () => logger,
    // The process's pino level decides; the library's own level would only hide lines from it.
    setLogLevel: () => undefined,
  };
  return logger;
}
