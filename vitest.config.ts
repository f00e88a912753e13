import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // PGlite instances are heavy (~800 MB each); two workers match the two cores.
    maxWorkers: 2,
    env: { NODE_ENV: 'test' },
    // Browser checks poll for what a page shows; under CI's load a navigation can take seconds.
    expect: { poll: { timeout: 20_000 } },
  },
});
