import { defineConfig } from 'vitest/config';

// One stack per run and its steps build on each other: one file, in order, with
// limits long enough for a first image build on a 2-core machine. Every wait
// inside the test has its own, tighter bound.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 5 * 60_000,
    hookTimeout: 25 * 60_000,
  },
});
