// Exponential backoff for the loops' retries: 100 ms, doubling, capped; with jitter where many clients
// retry against one service (a receiver or store that just came back is not hit by all at once).

export function nextBackoffMs(previousMs: number, maxMs: number): number {
  return Math.min(maxMs, previousMs === 0 ? 100 : previousMs * 2);
}

/** "Equal jitter": a wait drawn uniformly from [ms/2, ms], so it still grows exponentially. */
export function withJitter(ms: number, random: () => number = Math.random): number {
  return Math.round(ms / 2 + random() * (ms / 2));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
