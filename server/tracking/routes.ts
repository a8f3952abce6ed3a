import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import type { AppContext } from '../context.ts';
import { hitHandlers, type HitRequest, type HitResponse } from './hits.ts';

/**
 * /c/:token and /o/:token as Hono routes (what app.request() and any other front end see).
 * The Node server answers these paths before Hono, through node-listener.ts, with the same handlers.
 */
export function trackingRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  const hits = hitHandlers(ctx);

  const request = (c: Context): HitRequest => {
    let peer: string | undefined;
    try {
      peer = getConnInfo(c).remote.address;
    } catch {
      peer = undefined; // no socket behind app.request()
    }
    return { token: c.req.param('token') ?? '', method: c.req.method, header: (name) => c.req.header(name), peer };
  };

  const respond = (r: HitResponse): Response => {
    const headers = new Headers(r.headers);
    for (const cookie of r.cookies) headers.append('set-cookie', cookie);
    return new Response(typeof r.body === 'string' || r.body === null ? r.body : new Uint8Array(r.body), { status: r.status, headers });
  };

  app.on(['GET', 'HEAD'], '/c/:token', async (c) => respond(await hits.click(request(c))));
  app.get('/o/:token', async (c) => respond(await hits.open(request(c))));
  return app;
}
