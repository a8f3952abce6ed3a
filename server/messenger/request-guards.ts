import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { OriginRefused, Settings } from '../../api/types.ts';
import type { AppContext } from '../context.ts';
import { clientIp } from '../tracking/client-ip.ts';
import { LIMITS } from './rate-limit.ts';

/** The caller's address, as the tracking routes see it (trusted proxies' X-Forwarded-For honoured). */
export function requestIp(c: Context, trustedProxies: ReadonlySet<string>): string {
  const peer = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress;
  return clientIp(peer, c.req.header('x-forwarded-for'), trustedProxies) ?? 'unknown';
}

/** Whether pages of an origin may use the widget: PUBLIC_URL's own (it serves /demo), or one in settings.allowedOrigins. */
export function mayUseMessenger(origin: string, publicUrl: string, settings: Settings): boolean {
  return origin === new URL(publicUrl).origin || settings.allowedOrigins.includes(origin);
}

/**
 * Only pages on the allow-list (settings.allowedOrigins, plus PUBLIC_URL's own origin, which
 * serves /demo) may use the widget's routes. A request without Origin is not a cross-site
 * browser request (browsers always send it on those) and goes through to the rate limits.
 * The refusal is enforced here, not just by leaving CORS headers off, because a simple
 * cross-site POST would otherwise still be processed.
 *
 * The refusal is readable by the page (it carries the CORS headers, and the preflight before
 * it passes: it changes nothing), so a site whose origin was left out of the setting sees why,
 * and the widget shows that it is unavailable instead of waiting on a network error. Nothing
 * is done for such a request but the refusal. The server logs each refused origin once.
 */
export function messengerOrigins(ctx: AppContext): MiddlewareHandler[] {
  const own = new URL(ctx.config.publicUrl).origin;
  const logged = new Set<string>();
  const guard: MiddlewareHandler = async (c, next) => {
    if (c.req.method === 'OPTIONS') return next();
    const origin = c.req.header('origin');
    // Same-origin requests (the demo page however it was reached) are not cross-site at all.
    const sameOrigin = origin === own || (origin !== undefined && URL.parse(origin)?.host === c.req.header('host'));
    if (origin && !sameOrigin && !mayUseMessenger(origin, own, await ctx.store.getSettings())) {
      const error = `origin ${origin} may not use the messenger: add it to settings.allowedOrigins`;
      // Once per origin (any page can send any Origin: the set is capped, not a way to fill memory).
      if (!logged.has(origin) && logged.size < 1000) {
        logged.add(origin);
        console.warn(
          `[clicktrail] messenger: refused a page on ${origin}: it is not in settings.allowedOrigins ` +
            `(PATCH /api/settings {"allowedOrigins": [..., ${JSON.stringify(origin)}]} to let it use the widget)`,
        );
      }
      return c.json({ error, setting: 'allowedOrigins', origin } satisfies OriginRefused, 403);
    }
    await next();
  };
  const headers = cors({
    origin: (origin) => origin || null,
    allowMethods: ['GET', 'POST'],
    allowHeaders: ['Content-Type', 'Authorization'],
    exposeHeaders: ['Retry-After'],
    maxAge: 600,
  });
  // CORS first: the refusal must be readable by the page it refuses.
  return [headers, guard];
}

export function tooMany(c: Context, retryAfter: number, what: string): Response {
  c.header('Retry-After', String(retryAfter));
  return c.json({ error: `too many ${what}: try again in ${retryAfter} s` }, 429);
}

export function ipRateLimit(ctx: AppContext): MiddlewareHandler {
  const trusted = new Set(ctx.config.trustedProxies);
  return async (c, next) => {
    const wait = ctx.messenger.limits.hit(`ip:${requestIp(c, trusted)}`, LIMITS.perIp);
    if (wait) return tooMany(c, wait, 'requests from this address');
    await next();
  };
}
