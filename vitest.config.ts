import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // A process per test file, not a thread: some files set process-wide state (TZ) or count the
    // process's open files; threads measured no faster here. Two workers match the two cores CI has.
    pool: 'forks',
    maxWorkers: 2,
  },
});
