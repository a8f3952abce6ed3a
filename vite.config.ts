import type { UserConfig } from 'vite';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * One file for every build and the tests, picked by --mode:
 *   vite build --mode widget     → dist/widget/widget.js, served by the server at /widget.js
 *   vite build --mode extension  → dist/extension/, the unpacked Chrome extension
 *   vitest                       → the tests
 */

/** Tests with no store in them, or nothing of it: they would only run the same code again on PostgreSQL. */
const STORELESS = [
  'test/server/accuracy.test.ts',
  'test/server/browser-smoke.test.ts',
  'test/server/client-ip.test.ts',
  'test/server/config.test.ts',
  'test/server/networks.test.ts',
  'test/server/rewrite.test.ts',
  'test/server/tokens.test.ts',
  'test/widget/state.test.ts',
  // About sockets that never speak (the clicks it records at the end are every other test's too).
  'test/server/silent-connections.test.ts',
];

/**
 * Tests of SQLite's own behaviour (its migrations of old files, its locks, a read-only or
 * replaced file, the writer thread on a file a newer release made): their PostgreSQL
 * counterparts are test/server/postgres-*.test.ts.
 */
const SQLITE_ONLY = [
  'test/server/migrations.test.ts',
  'test/widget/messenger-migrations.test.ts',
  'test/server/click-journal.test.ts',
  'test/server/click-faults.test.ts',
  // SQLite's lock; its SIGKILL-under-load test has test/server/postgres-durability.test.ts beside it.
  'test/server/durability.test.ts',
];

const tests: UserConfig = {
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits for something to happen, never times it: a second (the default) is less
    // than a boot or a live message takes on a loaded 2-core CI machine.
    expect: { poll: { timeout: 10_000 } },
    projects: [
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: ['test/**/*.test.{ts,tsx}'],
          exclude: [...configDefaults.exclude, 'test/server/postgres*.test.ts'],
        },
      },
      {
        // The server suite again, every test server on a PostgreSQL database of a cluster the
        // run starts in a temporary folder (test/support/postgres.ts), and PostgreSQL's own tests.
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/server/**/*.test.ts', 'test/widget/**/*.test.ts', 'test/extension/links-resolve.test.ts'],
          exclude: [...configDefaults.exclude, ...STORELESS, ...SQLITE_ONLY],
          env: { CLICKTRAIL_TEST_STORE: 'postgres' },
          globalSetup: ['test/support/postgres.ts'],
        },
      },
    ],
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
