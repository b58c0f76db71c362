// Whether the sink's store takes writes, and the consumer pause that follows: a store that refuses
// writes pauses consumption (so no batch grows while nothing can be written) until it takes them again.
import type { TributaryError } from '../../errors.ts';
import type { InputConsumer } from '../../kafka/index.ts';
import type { Logger } from '../../observability/index.ts';

/** Why the store is not taking writes, since when, and when it last refused. */
interface StoreOutage {
  since: number;
  lastFailureAt: number;
  reason: string;
}

export class StoreGate {
  private paused = false;
  private unavailable: StoreOutage | undefined;

  constructor(
    private readonly consumer: InputConsumer,
    private readonly log: Logger,
  ) {}

  get isUnavailable(): boolean {
    return this.unavailable !== undefined;
  }

  /** Why the store is not taking writes, or undefined when it is. */
  get problem(): string | undefined {
    if (this.unavailable === undefined) return undefined;
    const seconds = Math.round((Date.now() - this.unavailable.since) / 1000);
    return `store unavailable for ${seconds} s: ${this.unavailable.reason}`;
  }

  /** The outage while the store refused within `withinMs`: an excuse for no progress, not a stale flag. */
  outageWithin(withinMs: number): string | undefined {
    if (this.unavailable === undefined || Date.now() - this.unavailable.lastFailureAt > withinMs)
      return undefined;
    return this.problem;
  }

  /** Stops fetching (a full batch, or a store that refuses writes). */
  pause(): void {
    if (this.paused) return;
    this.consumer.pause();
    this.paused = true;
  }

  /** Fetches again, unless the store still refuses writes. */
  resumeIfPaused(): void {
    if (!this.paused || this.unavailable !== undefined) return;
    this.consumer.resume();
    this.paused = false;
  }

  markUnavailable(error: TributaryError): void {
    const now = Date.now();
    const since = this.unavailable?.since ?? now;
    this.unavailable = { since, lastFailureAt: now, reason: error.message.slice(0, 300) };
    this.pause();
  }

  markAvailable(): void {
    if (this.unavailable === undefined) return;
    this.log.info('the store takes writes again; resuming consumption');
    this.unavailable = undefined;
  }
}
