import type { UserConfig } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * One file for every build and the tests, picked by --mode:
 *   vite build --mode widget     → dist/widget/widget.js, served by the server at /widget.js
 *   vite build --mode extension  → dist/extension/, the unpacked Chrome extension
 *   vitest                       → the tests
 */

const tests: UserConfig = {
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
};

export default defineConfig(async ({ mode }) => {
  switch (mode) {
    case 'widget':
      return (await import('./widget/vite.widget.ts')).widgetConfig();
    case 'extension':
      return (await import('./extension/vite.extension.ts')).extensionConfig();
    default:
      return tests;
  }
});
