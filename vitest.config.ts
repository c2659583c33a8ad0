import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores here: keep file-level parallelism modest so timing-sensitive
    // work (worker threads, big files) does not starve.
    maxWorkers: 2,
    // LODE_TEST_REPORT=FILE also writes a JSON report there (.ci/run's summary line).
    ...(process.env.LODE_TEST_REPORT
      ? { reporters: ['default', 'json'], outputFile: { json: process.env.LODE_TEST_REPORT } }
      : {}),
  },
});
