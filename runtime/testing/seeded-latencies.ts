// Seeded latency samples for tests of the latency sketch and its SQL: the same numbers on every run.

/** mulberry32: a seeded uniform in [0, 1). */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lognormal latencies (Box-Muller) with the given median (ms) and shape. */
export function lognormalLatencies(n: number, medianMs: number, sigma: number, seed: number): number[] {
  const random = seededUniform(seed);
  return Array.from({ length: n }, () => {
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return medianMs * Math.exp(sigma * normal);
  });
}

/** Pareto latencies (scale `minMs`, shape `alpha`): a heavy tail. */
export function paretoLatencies(n: number, minMs: number, alpha: number, seed: number): number[] {
  const random = seededUniform(seed);
  return Array.from({ length: n }, () => minMs / Math.pow(1 - random(), 1 / alpha));
}

/** The exact counterpart of LatencySketch.quantile: the element of 0-based rank floor(q (n-1)), ascending. */
export function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}
