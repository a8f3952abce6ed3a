import { defineConfig } from 'vitest/config';

// One config for the test runner now; the widget and extension builds join it later.
export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
