// A process that starts while Kafka or the schema registry is unreachable waits for it with backoff,
// saying so in its log and in /readyz (naming the address), up to TRIBUTARY_STARTUP_DEADLINE_MS; then it
// stops with a message that says what to check. Only retryable failures are waited out.
import { TributaryError, describeError, isRetryable } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';
import type { Logger } from '../../observability/index.ts';

const FIRST_RETRY_MS = 500;
const LONGEST_RETRY_MS = 5000;

/** What a starting process is doing, for /readyz while there is no loop yet. */
export class StartupProgress {
  phase = 'starting';
}

export interface Dependency {
  /** e.g. `Kafka at 127.0.0.1:9092` */
  name: string;
  /** Error code when the deadline passes. */
  unreachableCode: Extract<ErrorCode, 'TRIBUTARY_KAFKA_UNREACHABLE' | 'TRIBUTARY_REGISTRY_UNREACHABLE'>;
  /** What the user should check, e.g. which variable names the address. */
  hint: string;
}

export interface WaitSettings {
  deadlineMs: number;
  log: Logger;
  progress: StartupProgress;
  /** Injectable for tests; real time by default. */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `attempt` until it succeeds, fails with a non-retryable error, or the deadline passes. */
export async function waitForDependency<T>(
  dependency: Dependency,
  what: string,
  attempt: () => Promise<T>,
  settings: WaitSettings,
): Promise<T> {
  const { log, progress, deadlineMs } = settings;
  const sleep = settings.sleep ?? realSleep;
  const startedAt = Date.now();
  let retryMs = FIRST_RETRY_MS;
  for (let attemptNo = 1; ; attemptNo++) {
    progress.phase = `${what} (${dependency.name})`;
    try {
      return await attempt();
    } catch (error) {
      if (!isRetryable(error)) throw error;
      const waitedMs = Date.now() - startedAt;
      if (waitedMs + retryMs > deadlineMs) throw unreachable(dependency, waitedMs, error);
      progress.phase = `waiting for ${dependency.name} (${describeError(error)}); attempt ${attemptNo}, retrying in ${retryMs} ms, giving up after ${deadlineMs} ms`;
      log.warn(
        {
          dependency: dependency.name,
          attempt: attemptNo,
          retryInMs: retryMs,
          waitedMs,
          deadlineMs,
          err: error,
        },
        `waiting for ${dependency.name}: ${describeError(error)}`,
      );
      await sleep(retryMs);
      retryMs = Math.min(LONGEST_RETRY_MS, retryMs * 2);
    }
  }
}

function unreachable(dependency: Dependency, waitedMs: number, last: unknown): TributaryError {
  return new TributaryError(
    dependency.unreachableCode,
    `${dependency.name} did not answer for ${Math.round(waitedMs / 1000)} s (last error: ${describeError(last)}). ` +
      `${dependency.hint}`,
    { cause: last, context: { dependency: dependency.name, waitedMs } },
  );
}

export function kafkaDependency(brokers: string): Dependency {
  return {
    name: `Kafka at ${brokers}`,
    unreachableCode: 'TRIBUTARY_KAFKA_UNREACHABLE',
    hint:
      'Check that a broker is running there and reachable from this host, and that TRIBUTARY_KAFKA_BROKERS ' +
      'names it (locally: `./tributary stack up`). TRIBUTARY_STARTUP_DEADLINE_MS sets how long to wait.',
  };
}

export function registryDependency(baseUrl: string): Dependency {
  return {
    name: `the schema registry at ${baseUrl}`,
    unreachableCode: 'TRIBUTARY_REGISTRY_UNREACHABLE',
    hint:
      'Check that the registry is running and that TRIBUTARY_REGISTRY_URL names its Confluent-compatible API ' +
      '(locally: `./tributary stack up`). TRIBUTARY_STARTUP_DEADLINE_MS sets how long to wait.',
  };
}
