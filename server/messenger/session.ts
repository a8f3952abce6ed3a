import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Keyring } from '../tokens/tokens.ts';
import type { Store, VisitorRecord, VisitorScope } from '../store/store.ts';

/** Only a hash of the visitor's secret is stored: a copy of the database can't impersonate visitors. */
export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest();

export function newSecret(): { secret: string; hash: Buffer } {
  const secret = randomBytes(24).toString('base64url');
  return { secret, hash: hashSecret(secret) };
}

export async function checkSession(store: Store, id: number, secret: string): Promise<VisitorRecord | null> {
  const visitor = await store.getVisitor(id);
  return visitor && timingSafeEqual(visitor.secretHash, hashSecret(secret)) ? visitor : null;
}

/** The visitor named by `Authorization: Bearer <id>.<secret>`, or a 401. */
export async function requireVisitor(c: Context, store: Store): Promise<VisitorRecord> {
  const m = /^Bearer ([1-9][0-9]{0,15})\.([A-Za-z0-9_-]{1,200})$/.exec(c.req.header('authorization') ?? '');
  const visitor = m ? await checkSession(store, Number(m[1]), m[2]!) : null;
  if (!visitor) throw new HTTPException(401, { message: 'no valid visitor session: boot first' });
  return visitor;
}

export function scopeOf(visitor: VisitorRecord): VisitorScope {
  return {
    visitorId: visitor.id,
    verifiedPersonId: visitor.identity?.identifiedBy === 'verified' ? visitor.identity.personId : null,
  };
}

const STREAM_TOKEN_MS = 24 * 3600_000;

/**
 * EventSource can't send an Authorization header, and the session secret doesn't belong in
 * a URL (logs, proxies): the stream takes a short-lived token naming the visitor instead.
 */
export const streamToken = {
  sign(keys: Keyring, visitorId: number, now = Date.now()): string {
    const body = `${visitorId}.${Math.floor((now + STREAM_TOKEN_MS) / 1000)}`;
    return `${body}.${mac(keys, body)}`;
  },
  verify(keys: Keyring, token: string, now = Date.now()): number | null {
    const m = /^([0-9]{1,15})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return null;
    const expected = Buffer.from(mac(keys, `${m[1]}.${m[2]}`));
    const given = Buffer.from(m[3]!);
    if (!timingSafeEqual(expected, given) || Number(m[2]) * 1000 <= now) return null;
    return Number(m[1]);
  },
};

function mac(keys: Keyring, body: string): string {
  return createHmac('sha256', keys.current.secret).update(`messenger-stream:${body}`).digest('base64url');
}
