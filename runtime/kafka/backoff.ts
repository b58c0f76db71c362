// Exponential backoff for the loops' retries: 100 ms, doubling, capped.

export function nextBackoffMs(previousMs: number, maxMs: number): number {
  return Math.min(maxMs, previousMs === 0 ? 100 : previousMs * 2);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
