import { defineConfig } from 'vitest/config';

// Three projects: `unit` needs nothing running; `stack` starts one real Kafka + registry for the whole run;
// `faults` (the fault suite, test/e2e/faults) starts its own, and some cases start a private stack to break.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/*.integration.test.ts', 'test/e2e/**', 'node_modules/**', '.tributary/**'],
          // Pure tests finish in milliseconds; a few start a real process or generate 100k events, which on
          // a busy 2-core machine can pass vitest's 5 s default without anything being wrong.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'stack',
          include: ['**/*.integration.test.ts', 'test/e2e/**/*.test.ts'],
          exclude: ['test/e2e/faults/**', 'node_modules/**', '.tributary/**'],
          globalSetup: ['test/stack-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          // One broker on a 2-core machine: files run one at a time so their timings stay meaningful.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/e2e/faults/**/*.test.ts'],
          globalSetup: ['test/stack-setup.ts', 'test/e2e/faults/fault-suite-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 180_000,
          // Cases kill, freeze and time processes: one at a time, or they disturb each other.
          fileParallelism: false,
        },
      },
    ],
  },
});
