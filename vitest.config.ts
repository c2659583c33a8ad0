import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores here: keep file-level parallelism modest so timing-sensitive
    // work (worker threads, big files) does not starve.
    maxWorkers: 2,
  },
});
