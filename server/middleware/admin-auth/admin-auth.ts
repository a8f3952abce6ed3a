import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Bearer-token guard for the team's API. Hashing first makes the comparison constant-time whatever the lengths. */
export function adminAuth(token: string): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="clicktrail"');
      return c.json({ error: match ? 'invalid token' : 'missing bearer token' }, 401);
    }
    await next();
  };
}
