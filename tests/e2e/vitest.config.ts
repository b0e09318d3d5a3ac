import { defineConfig } from 'vitest/config';

// One stack of four service processes serves the whole file, so tests in it
// run in order; hooks start and stop processes, hence the long hook timeout.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
