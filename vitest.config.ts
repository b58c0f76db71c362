import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs nothing running; `stack` starts one real Kafka + registry for the whole run.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/*.integration.test.ts', 'test/e2e/**', 'node_modules/**', '.tributary/**'],
        },
      },
      {
        test: {
          name: 'stack',
          include: ['**/*.integration.test.ts', 'test/e2e/**/*.test.ts'],
          exclude: ['node_modules/**', '.tributary/**'],
          globalSetup: ['test/stack-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          // One broker on a 2-core machine: files run one at a time so their timings stay meaningful.
          fileParallelism: false,
        },
      },
    ],
  },
});
