import { serve, type ServerType } from '@hono/node-server';
import { createApp } from './app.ts';
import type { Config } from './config/config.ts';
import type { AppContext } from './context.ts';
import { createMailer } from './delivery/mailer.ts';
import { SqliteStore } from './store/sqlite.ts';
import { Keyring } from './tokens/tokens.ts';

export interface RunningServer {
  ctx: AppContext;
  server: ServerType;
  port: number;
  /** Stops taking requests, finishes what is queued, closes the database. */
  stop(): Promise<void>;
}

export function buildContext(config: Config): AppContext {
  return {
    config,
    store: new SqliteStore(config.dbPath),
    keys: new Keyring(config.secrets),
    mailer: createMailer(config),
  };
}

export async function startServer(config: Config): Promise<RunningServer> {
  const ctx = buildContext(config);
  const app = createApp(ctx);
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve) => {
    const server = serve({ fetch: app.fetch, port: config.port, hostname: '0.0.0.0' }, (info) =>
      resolve({ server, port: info.port }),
    );
  });
  return {
    ctx,
    server,
    port,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      ctx.mailer.close();
      await ctx.store.close();
    },
  };
}
