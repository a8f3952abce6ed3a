import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import type { AppContext } from '../context.ts';
import { HIT_METHODS, HIT_ROUTES, hitHandlers, type HitRequest, type HitResponse } from './hits.ts';

/**
 * The tracking routes (HIT_ROUTES) as Hono routes, for app.request() and any other front end.
 * The Node server answers these paths before Hono, through node-listener.ts, from the same table and handlers.
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
    return { token: c.req.param('token') ?? '', method: c.req.method, headers: { get: (name) => c.req.header(name) }, peer };
  };

  const respond = (r: HitResponse): Response => {
    const headers = new Headers();
    for (let i = 0; i < r.headers.length; i += 2) headers.append(r.headers[i]!, r.headers[i + 1]!);
    return new Response(typeof r.body === 'string' || r.body === null ? r.body : new Uint8Array(r.body), { status: r.status, headers });
  };

  for (const route of HIT_ROUTES) {
    app.on([...HIT_METHODS], `${route.prefix}:token`, async (c) => {
      const r = await hits[route.kind](request(c));
      return c.req.method === 'HEAD' ? new Response(null, { status: r.status, headers: respond(r).headers }) : respond(r);
    });
  }
  return app;
}
