import { hmac, type _HMAC } from '@noble/hashes/hmac.js';
import { sha256, type _SHA256 } from '@noble/hashes/sha2.js';
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Signed, URL-safe tokens: base64url( kid | kind | varint fields... | mac ).
 * The key id lets secrets rotate: new tokens use the first key, old ones verify with any.
 * Destinations are never inside a token; it only names rows the server looks up.
 */

const MAC_BYTES = 10; // 80 bits: an online forger gets nowhere, and links stay short
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,64}$/;

// unsubscribe: an email's /u/ link and List-Unsubscribe; testClick: a test send's links, which redirect and count nothing;
// replyEmail: the link of a mail of team replies back to its conversation.
// 3 was the identity cookie's own token, before the cookie became the click's token (identityCookie): never reused.
export const TokenKind = { click: 1, open: 2, unsubscribe: 4, testClick: 5, replyEmail: 6 } as const;
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

export interface SigningKey {
  id: number;
  secret: Buffer;
  /** HMAC-SHA256 with the key already absorbed: each MAC is then two hash blocks, and nothing more. */
  keyed: _HMAC<_SHA256>;
}

export class Keyring {
  readonly current: SigningKey;
  private readonly byId = new Map<number, SigningKey[]>();

  /** Secrets newest first; the first one signs. */
  constructor(secrets: string[]) {
    if (secrets.length === 0) throw new Error('at least one signing secret is needed');
    const keys = secrets.map((s) => {
      const secret = Buffer.from(s);
      return { id: createHash('sha256').update(s).digest()[0]!, secret, keyed: hmac.create(sha256, secret) };
    });
    this.current = keys[0]!;
    for (const key of keys) this.byId.set(key.id, [...(this.byId.get(key.id) ?? []), key]);
  }

  keysFor(id: number): SigningKey[] {
    return this.byId.get(id) ?? [];
  }
}

// The redirect's largest cost was node:crypto's createHmac, which sets up the key and a native
// object for every token. noble's HMAC is copied from its keyed state into one reused instance:
// the same HMAC-SHA256 (the tests check it against node:crypto), a third of the CPU.
let scratch: _HMAC<_SHA256> | undefined;
const digest = new Uint8Array(32);

/** The MAC's bytes, valid until the next call. */
function mac(key: SigningKey, body: Uint8Array): Uint8Array {
  scratch = key.keyed._cloneInto(scratch);
  scratch.update(body);
  scratch.digestInto(digest);
  return digest.subarray(0, MAC_BYTES);
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/**
 * The last character of an unpadded base64url text carries bits past the end of the bytes
 * (four when two characters remain, two when three do): other spellings decode to the same
 * bytes. Only the one we issue, with those bits zero, is accepted, so a token (and a cookie)
 * has one spelling.
 */
function oneSpelling(token: string): boolean {
  const unused = [0, -1, 0b1111, 0b11][token.length % 4]!;
  return unused !== -1 && (BASE64URL.indexOf(token[token.length - 1]!) & unused) === 0;
}

function pushVarint(out: number[], value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`token field out of range: ${value}`);
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

export function signToken(keys: Keyring, kind: TokenKind, fields: number[]): string {
  const body: number[] = [keys.current.id, kind];
  for (const f of fields) pushVarint(body, f);
  const bytes = Buffer.from(body);
  return Buffer.concat([bytes, mac(keys.current, bytes)]).toString('base64url');
}

/** The token's fields when it is well-formed, of this kind, and signed by a known key; otherwise null. */
export function verifyToken(keys: Keyring, kind: TokenKind, token: string): number[] | null {
  if (!TOKEN_SHAPE.test(token) || !oneSpelling(token)) return null;
  const raw = Buffer.from(token, 'base64url');
  if (raw.length < 2 + MAC_BYTES || raw[1] !== kind) return null;
  const body = raw.subarray(0, raw.length - MAC_BYTES);
  const given = raw.subarray(raw.length - MAC_BYTES);
  let signed = false;
  for (const key of keys.keysFor(raw[0]!)) if ((signed = timingSafeEqual(mac(key, body), given))) break;
  if (!signed) return null;

  const fields: number[] = [];
  let i = 2;
  while (i < body.length) {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = body[i++];
      if (b === undefined || scale > 2 ** 49) return null;
      value += (b & 0x7f) * scale;
      scale *= 0x80;
      if (b < 0x80) break;
    }
    fields.push(value);
  }
  return fields;
}

export const clickToken = {
  sign: (keys: Keyring, recipientId: number, linkId: number) => signToken(keys, TokenKind.click, [recipientId, linkId]),
  verify(keys: Keyring, token: string): { recipientId: number; linkId: number } | null {
    const f = verifyToken(keys, TokenKind.click, token);
    return f?.length === 2 ? { recipientId: f[0]!, linkId: f[1]! } : null;
  },
};

export const openToken = {
  sign: (keys: Keyring, recipientId: number) => signToken(keys, TokenKind.open, [recipientId]),
  verify(keys: Keyring, token: string): { recipientId: number } | null {
    const f = verifyToken(keys, TokenKind.open, token);
    return f?.length === 1 ? { recipientId: f[0]! } : null;
  },
};

/**
 * The identity cookie's value: the click's own token, already verified by the redirect, and
 * the click's time (base 36). It needs no signature of its own: the token proves the
 * recipient and the link, and the time is checked against the database, which must hold a
 * person's click at that moment (server/messenger/identify.ts), so a time made up names no
 * click. What the cookie lasts is held on the server too: the click's time plus the
 * settings' identityCookieDays. (A cookie of the earlier kind, a token of its own, no longer
 * reads: its person is identified again at their next click.)
 */
export const identityCookie = {
  value: (token: string, clickAt: number) => `${token}.${clickAt.toString(36)}`,
  read(keys: Keyring, value: string): { recipientId: number; linkId: number; clickAt: number } | null {
    const dot = value.lastIndexOf('.');
    const at = value.slice(dot + 1);
    if (dot === -1 || !/^[0-9a-z]{1,11}$/.test(at)) return null;
    const clickAt = parseInt(at, 36);
    // One spelling of each value, as tokens have.
    if (clickAt.toString(36) !== at) return null;
    const ids = clickToken.verify(keys, value.slice(0, dot));
    return ids && { ...ids, clickAt };
  },
};

/** The recipient id a test send's tokens name: no recipient has it, so its unsubscribe link unsubscribes nobody. */
export const NO_RECIPIENT = 0;

/** An email's unsubscribe link (and its List-Unsubscribe header): names the recipient, or NO_RECIPIENT in a test send. */
export const unsubscribeToken = {
  sign: (keys: Keyring, recipientId: number) => signToken(keys, TokenKind.unsubscribe, [recipientId]),
  verify(keys: Keyring, token: string): { recipientId: number } | null {
    const f = verifyToken(keys, TokenKind.unsubscribe, token);
    return f?.length === 1 ? { recipientId: f[0]! } : null;
  },
};

/** A test send's link: the recipient it was rendered as (NO_RECIPIENT: nobody) and the placement. It redirects and counts nothing. */
export const testClickToken = {
  sign: (keys: Keyring, recipientId: number, linkId: number) => signToken(keys, TokenKind.testClick, [recipientId, linkId]),
  verify(keys: Keyring, token: string): { recipientId: number; linkId: number } | null {
    const f = verifyToken(keys, TokenKind.testClick, token);
    return f?.length === 2 ? { recipientId: f[0]!, linkId: f[1]! } : null;
  },
};

/**
 * A reply email's link back to its conversation (a /c/ link of its own kind): names the reply
 * email, nothing else. It grants nothing: it leads to the conversation's page, where the
 * widget's own session decides what it shows.
 */
export const replyEmailToken = {
  sign: (keys: Keyring, replyEmailId: number) => signToken(keys, TokenKind.replyEmail, [replyEmailId]),
  verify(keys: Keyring, token: string): { replyEmailId: number } | null {
    const f = verifyToken(keys, TokenKind.replyEmail, token);
    return f?.length === 1 ? { replyEmailId: f[0]! } : null;
  },
};
