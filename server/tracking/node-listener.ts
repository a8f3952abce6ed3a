import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../context.ts';
import { hitHandlers, type HitResponse } from './hits.ts';

/**
 * The redirect's fast lane: /c/<token> and /o/<token> answered straight from node:http,
 * without building the Request and Response objects a Hono route needs. Anything else,
 * including a malformed tracking path, is left to Hono (returns false).
 */
export function trackingListener(ctx: AppContext) {
  const hits = hitHandlers(ctx);

  const send = (res: ServerResponse, r: HitResponse, head: boolean) => {
    const headers: Record<string, string | string[]> = { ...r.headers };
    if (r.cookies.length) headers['set-cookie'] = r.cookies;
    res.writeHead(r.status, headers);
    res.end(head ? undefined : (r.body ?? undefined));
  };

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url ?? '';
    const kind = url.startsWith('/c/') ? 'click' : url.startsWith('/o/') ? 'open' : null;
    if (!kind || !(req.method === 'GET' || (req.method === 'HEAD' && kind === 'click'))) return false;
    const end = url.indexOf('?');
    const token = url.slice(3, end === -1 ? undefined : end);
    if (token === '' || token.includes('/')) return false; // not this route's shape: Hono's 404

    const hit = {
      token,
      method: req.method,
      header: (name: string) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v.join(', ') : v;
      },
      peer: req.socket.remoteAddress,
    };
    (kind === 'click' ? hits.click(hit) : hits.open(hit)).then(
      (r) => send(res, r, req.method === 'HEAD'),
      (err) => {
        console.error(`[clicktrail] ${req.method} /${kind === 'click' ? 'c' : 'o'}/…:`, err);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error');
      },
    );
    return true;
  };
}
