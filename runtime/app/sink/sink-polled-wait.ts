// How the sink loop waits on slow work (a write, a schema fetch, a commit) without leaving its group: it
// takes a turn of its own every step while the work is pending, which polls the consumer (librdkafka
// drops a member that stops polling) and fills the next batch. Kafka's and the registry's transient
// failures are retried here, with a doubling backoff, polled throughout.
import { isTributaryError } from '../../errors.ts';
import { sleep } from '../../kafka/index.ts';
import type { Logger } from '../../observability/index.ts';

const POLL_STEP_MS = 200;

export interface PolledWaitDeps {
  log: Logger;
  maxRetryBackoffMs: number;
  /** One turn while waiting: poll the consumer, fill the batch (bounded), pause it if need be. */
  turn(): Promise<void>;
}

export class PolledWait {
  constructor(private readonly deps: PolledWaitDeps) {}

  /** Awaits `work`, taking a turn every POLL_STEP_MS until it settles. */
  async polled<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    const watched = work.then(
      () => (settled = true),
      () => (settled = true),
    );
    while (!settled) {
      await Promise.race([watched, sleep(POLL_STEP_MS)]);
      if (settled) break;
      await this.deps.turn();
    }
    return work;
  }

  /** Runs `work` until it succeeds, backing off on retryable errors; any other error is thrown. */
  async retryTransient<T>(what: string, work: () => Promise<T>): Promise<T> {
    let backoffMs = 100;
    for (;;) {
      try {
        return await this.polled(work());
      } catch (error) {
        if (!isTributaryError(error) || !error.retryable) throw error;
        this.deps.log.warn({ err: error, backoffMs }, `${what} failed; retrying`);
        await this.polled(sleep(backoffMs));
        backoffMs = Math.min(this.deps.maxRetryBackoffMs, backoffMs * 2);
      }
    }
  }
}
