import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../context.ts';
import { HIT_HEADERS, hitHandlers, hitRoute, type HitKind, type HitRequest, type HitResponse } from './hits.ts';

const WANTED = new Set(HIT_HEADERS);
const WANTED_LENGTHS = new Set(HIT_HEADERS.map((h) => h.length));

/**
 * Those headers from the raw list, repeated ones joined with ", " as req.headers would: a
 * browser sends a dozen or more, and building all of req.headers costs more than the rest
 * of the lookup.
 */
function hitHeaders(raw: string[]): Map<string, string> {
  const picked = new Map<string, string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (!WANTED_LENGTHS.has(raw[i]!.length)) continue;
    const name = raw[i]!.toLowerCase();
    if (!WANTED.has(name)) continue;
    const earlier = picked.get(name);
    picked.set(name, earlier === undefined ? raw[i + 1]! : `${earlier}, ${raw[i + 1]}`);
  }
  return picked;
}

/**
 * The redirect's fast lane: the tracking routes (HIT_ROUTES) answered straight from node:http,
 * without building the Request and Response objects a Hono route needs. Anything else,
 * including a malformed tracking path, is left to Hono (returns false).
 */
export function trackingListener(ctx: AppContext) {
  const hits = hitHandlers(ctx);

  // One async function, not closures made per request: a closure costs more than its call
  // here, and tsx names each one it makes.
  async function answer(req: IncomingMessage, res: ServerResponse, kind: HitKind, hit: HitRequest): Promise<void> {
    try {
      const r: HitResponse = await hits[kind](hit);
      res.writeHead(r.status, r.headers as string[]);
      res.end(req.method === 'HEAD' ? undefined : (r.body ?? undefined));
    } catch (err) {
      // Nothing thrown here may go unhandled: it would take the process down with every click in flight.
      console.error(`[clicktrail] ${req.method} /${kind === 'click' ? 'c' : 'o'}/…:`, err);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error');
    }
  }

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const route = hitRoute(req.method, req.url ?? '');
    if (!route) return false; // not a tracking route, or not its shape: Hono's (a 404)
    void answer(req, res, route.kind, { token: route.token, method: req.method!, headers: hitHeaders(req.rawHeaders), peer: req.socket.remoteAddress });
    return true;
  };
}
