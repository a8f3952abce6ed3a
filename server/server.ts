import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { createServer, type Server } from 'node:http';
import { createApp } from './app.ts';
import type { Config } from './config/config.ts';
import type { AppContext } from './context.ts';
import { createMailer } from './delivery/mailer.ts';
import { guardConnections, type ConnectionLimits } from './http/connections.ts';
import { createMessenger } from './messenger/messenger.ts';
import { workerHubLink } from './cluster.ts';
import { openStore } from './store/open.ts';
import { postgresHubLink } from './store/postgres/hub-link.ts';
import { Keyring } from './tokens/tokens.ts';
import { trackingListener } from './tracking/node-listener.ts';
import { Tracking } from './tracking/tracking.ts';

export interface RunningServer {
  ctx: AppContext;
  server: Server;
  port: number;
  /** Stops taking requests, finishes what is queued, closes the database. */
  stop(): Promise<void>;
}

/**
 * The server's parts. Clicks are written on a worker thread in the running server; `inline`
 * writes them on this thread (tests of the app without a server, tools). `webhookLeaseMs`
 * shortens the webhook lease (tests of a takeover).
 */
export function buildContext(config: Config, clickWriter: 'worker' | 'inline' = 'worker', opts: { webhookLeaseMs?: number } = {}): AppContext {
  const store = openStore(config.database, { releaseClaims: config.releasesClaimsOf });
  const keys = new Keyring(config.secrets);
  const mailer = createMailer(config);
  return {
    config,
    store,
    messenger: createMessenger(store, () => store.getSettings(), {
      link: config.database.kind === 'postgres' ? postgresHubLink(config.database.url) : workerHubLink(),
      node: config.nodeId,
      webhookLeaseMs: opts.webhookLeaseMs,
      replyEmails: { mailer, keys, publicUrl: config.publicUrl, from: config.from },
    }),
    keys,
    mailer,
    // The redirect's own connection: it must fail at once while the database is locked, not wait.
    tracking: new Tracking(openStore(config.database, { busyTimeoutMs: 0 }), {
      database: config.database,
      journalDir: config.journalDir,
      nodeId: config.nodeId,
      writer: clickWriter,
    }),
  };
}

/**
 * The HTTP server, not yet listening: clicks and opens take the fast lane, everything else is
 * the Hono app, and idle or silent connections can't use up the open files.
 */
export function httpServer(ctx: AppContext, app: Hono, limits?: ConnectionLimits): Server {
  const hono = getRequestListener(app.fetch);
  const tracking = trackingListener(ctx);
  const server = createServer((req, res) => {
    if (!tracking(req, res)) void hono(req, res);
  });
  guardConnections(server, limits);
  return server;
}

export async function startServer(config: Config): Promise<RunningServer> {
  const ctx = buildContext(config);
  await ctx.tracking.settle();
  const server = httpServer(ctx, createApp(ctx));
  await new Promise<void>((resolve) => server.listen(config.port, '0.0.0.0', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    ctx,
    server,
    port,
    async stop() {
      // Live streams never end by themselves: end them, or close() would wait forever.
      const messengerClosed = ctx.messenger.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      ctx.mailer.close();
      await ctx.tracking.close();
      await messengerClosed;
      await ctx.store.close();
    },
  };
}
