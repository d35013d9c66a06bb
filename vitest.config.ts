import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The page tests poll for what a browser shows after a server render; with the whole suite on
    // two cores a preview can take seconds, not vitest's default one.
    expect: { poll: { timeout: 20_000, interval: 100 } },
  },
});
