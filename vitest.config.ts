import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // CLI tests spawn real processes; two workers match the two cores CI has.
    maxWorkers: 2,
  },
});
