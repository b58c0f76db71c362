// What every long-running runtime process (processor or sink) does the same way: refuse bad config
// before touching anything, log fatal surprises, and stop on SIGTERM/SIGINT within a bounded time.
import { ConfigError, isTributaryError } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';
import { createLogger } from '../../observability/index.ts';
import { setClientLogger, useKafkaSecurity } from '../../kafka/index.ts';
import type { KafkaSecuritySettings } from '../../kafka/index.ts';
import type { Logger } from '../../observability/index.ts';
import { exitProcess } from './process-exit.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_CONFIG = 2;
export const EXIT_FENCED = 3;

/** Errors a restart cannot fix until someone changes config or starts what is missing: exit 2, like bad config. */
const NEEDS_A_PERSON = new Set<ErrorCode>([
  'TRIBUTARY_KAFKA_UNREACHABLE',
  'TRIBUTARY_KAFKA_AUTHENTICATION_FAILED',
  'TRIBUTARY_KAFKA_TLS_FAILED',
  'TRIBUTARY_KAFKA_NOT_AUTHORIZED',
  'TRIBUTARY_CLICKHOUSE_QUERY_PORT_UNAVAILABLE',
  'TRIBUTARY_CLICKHOUSE_TABLE_INVALID',
  'TRIBUTARY_CLICKHOUSE_TLS_FAILED',
  'TRIBUTARY_CLICKHOUSE_AUTHENTICATION_FAILED',
  'TRIBUTARY_SCHEMA_NOT_REGISTERED',
  'TRIBUTARY_REGISTRY_UNREACHABLE',
  'TRIBUTARY_REGISTRY_AUTHENTICATION_FAILED',
  'TRIBUTARY_REGISTRY_NOT_AUTHORIZED',
  'TRIBUTARY_REGISTRY_TLS_FAILED',
  'TRIBUTARY_INSTANCE_ID_IN_USE',
  'TRIBUTARY_DEFINITION_INVALID',
  'TRIBUTARY_DEFINITION_OPEN_FAILED',
]);

export function exitCodeFor(error: unknown): number {
  if (!isTributaryError(error)) return EXIT_FAILED;
  if (error.code === 'TRIBUTARY_KAFKA_FENCED') return EXIT_FENCED;
  return NEEDS_A_PERSON.has(error.code) ? EXIT_BAD_CONFIG : EXIT_FAILED;
}

/** Loads config (exit 2 with the message on a ConfigError), then runs `body` and exits with its code. */
export async function runAsProcess<C extends { logLevel: string } & Partial<KafkaSecuritySettings>>(
  name: string,
  loadConfig: () => C,
  body: (config: C, log: Logger) => Promise<number>,
): Promise<never> {
  let config: C;
  try {
    config = loadConfig();
    useKafkaSecurity(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(EXIT_BAD_CONFIG);
  }
  const log = createLogger({ name, level: config.logLevel });
  setClientLogger(log);
  process.on('uncaughtException', (error) => {
    log.fatal({ err: error }, 'uncaught exception');
    exitProcess(EXIT_FAILED);
  });
  process.on('unhandledRejection', (error) => {
    log.fatal({ err: error }, 'unhandled rejection');
    exitProcess(EXIT_FAILED);
  });
  exitProcess(await body(config, log));
}

export interface StopSignal {
  readonly requested: boolean;
  /** Call once the process has stopped cleanly, so the give-up timer does not fire. */
  done(): void;
}

/** On SIGTERM/SIGINT calls `stop` once and gives the clean shutdown `timeoutMs` before exiting 1. */
export function onStopSignal(log: Logger, timeoutMs: number, what: string, stop: () => void): StopSignal {
  let timer: NodeJS.Timeout | undefined;
  const signal = {
    requested: false,
    done: () => {
      if (timer !== undefined) clearTimeout(timer);
    },
  };
  const handler = (name: string): void => {
    log.info({ signal: name }, `stopping: ${what}`);
    signal.requested = true;
    stop();
    timer ??= setTimeout(() => {
      log.error({ timeoutMs }, 'clean shutdown took too long; exiting without it');
      exitProcess(EXIT_FAILED);
    }, timeoutMs).unref();
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return signal;
}
