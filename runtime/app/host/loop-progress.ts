// Liveness of a long-running loop (the processor's transaction loop, the sink's loop): /healthz goes
// false when the loop has not completed a turn within a bound. A turn blocked inside one call (a commit
// resumed against a broker that never answers, a rewind that keeps failing) is exactly what it catches.
import type { HealthStatus } from '../../observability/index.ts';

/** Default bound: well past a transaction timeout and a slow batch, well inside max.poll.interval.ms. */
export const DEFAULT_STALL_MS = 180_000;

export class LoopProgress {
  private lastProgressAt = Date.now();

  constructor(readonly stallMs: number = DEFAULT_STALL_MS) {}

  /** Call when a turn completes: a batch committed or recovered from, or a consume came back empty. */
  progressed(): void {
    this.lastProgressAt = Date.now();
  }

  get sinceProgressMs(): number {
    return Date.now() - this.lastProgressAt;
  }

  /**
   * `/healthz` for the loop. `excuse` names an expected wait that is readiness, not liveness (the sink
   * waiting out a store outage): the loop stays live while it is given.
   */
  status(excuse?: string): HealthStatus {
    const idleMs = this.sinceProgressMs;
    const stalled = `loop has made no progress for ${idleMs} ms (bound ${this.stallMs} ms)`;
    return loopLiveness(idleMs, this.stallMs, excuse, stalled);
  }
}

/** `/healthz` of a loop `idleMs` after its last progress; `excuse` (an expected wait) keeps it live. */
export function loopLiveness(
  idleMs: number,
  stallMs: number,
  excuse: string | undefined,
  stalled: string,
): HealthStatus {
  if (excuse !== undefined) return { ok: true, reason: excuse };
  return idleMs < stallMs ? { ok: true, reason: 'loop making progress' } : { ok: false, reason: stalled };
}
