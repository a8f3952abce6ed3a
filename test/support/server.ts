import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Hono } from 'hono';
import { afterEach, beforeEach } from 'vitest';
import { createApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config/config.ts';
import type { AppContext } from '../../server/context.ts';
import { buildContext, httpServer } from '../../server/server.ts';
import { releaseTestDatabases, withTestStore } from './postgres.ts';

/** The project's own email templates (test/fixtures/emails/README.md says what each one carries). */
export const FIXTURES = join(import.meta.dirname, '../fixtures/emails');

/** Every fixture template, as [name relative to the fixtures folder, html]. */
export function fixtureTemplates(): [string, string][] {
  const out: [string, string][] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.html')) out.push([relative(FIXTURES, path), readFileSync(path, 'utf8')]);
    }
  };
  walk(FIXTURES);
  return out;
}

export function tempDir(prefix = 'clicktrail-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestServer {
  dir: string;
  ctx: AppContext;
  app: Hono;
  /** Calls the app as the team would, with the admin token. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  /**
   * A request over a real socket to the server's own request listener, as production answers
   * it: /c/ and /o/ through the node:http fast lane. Redirects are not followed.
   */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The real app on a real SQLite file (or, CLICKTRAIL_TEST_STORE=postgres, a PostgreSQL database)
 * in a fresh temporary folder. `build`: buildContext's options (a shorter webhook lease).
 */
export function testServer(env: Record<string, string> = {}, dir = tempDir(), build: Parameters<typeof buildContext>[2] = {}): TestServer {
  // CLICKTRAIL_TEST_STORE=postgres: a database of the test cluster stands for the SQLite file.
  const config = loadConfig(
    withTestStore({
      CLICKTRAIL_DB: join(dir, 'clicktrail.db'),
      CLICKTRAIL_PUBLIC_URL: 'http://links.shop.test',
      ...env,
    }),
  );
  const ctx = buildContext(config, 'inline', build);
  const app = createApp(ctx);
  const http = httpServer(ctx, app);
  const listening = new Promise<string>((resolve) =>
    http.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(http.address() as { port: number }).port}`)),
  );
  return {
    dir,
    ctx,
    app,
    api(method, path, body, headers = {}) {
      return Promise.resolve(
        app.request(path, {
          method,
          headers: {
            authorization: `Bearer ${config.adminToken}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          },
          body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        }),
      );
    },
    async fetch(path, init = {}) {
      return fetch(`${await listening}${path}`, { redirect: 'manual', ...init });
    },
    async close() {
      await listening;
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      const messengerClosed = ctx.messenger.close();
      ctx.mailer.close();
      await ctx.tracking.close();
      await messengerClosed;
      await ctx.store.close();
    },
  };
}

/** Gives each test of the file a fresh server (through `use`), then closes it and removes its folder. */
export function useTestServer(use: (s: TestServer) => void | Promise<void>, env: Record<string, string> = {}): void {
  let current: TestServer;
  beforeEach(async () => {
    current = testServer(env);
    await use(current);
  });
  afterEach(async () => {
    await current.close();
    removeDir(current.dir);
  });
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  releaseTestDatabases(dir);
}

/** Tracked-link and pixel URLs found in rendered HTML or text. */
export function trackedUrls(body: string, publicUrl = 'http://links.shop.test'): string[] {
  const escaped = publicUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return [...body.matchAll(new RegExp(`${escaped}/c/[A-Za-z0-9_-]+`, 'g'))].map((m) => m[0]);
}

/** A port nothing listens on right now, for a server whose public URL must name its port before it starts. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
