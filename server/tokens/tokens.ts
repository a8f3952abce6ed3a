import { _SHA256 } from '@noble/hashes/sha2.js';
import { createHash } from 'node:crypto';

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

const BLOCK = 64;
/** A body this long or shorter fits one block with SHA-256's padding (a 0x80 byte and the 8-byte length). */
const MAX_BODY = BLOCK - 9;

/**
 * noble's SHA-256 compression, reached the way the library offers it to a subclass: one
 * 64-byte block absorbed into a given state. The redirect's MAC is two of these and nothing
 * else (the keyed states are made once per key), where HMAC's general path (node:crypto's
 * createHmac, noble's hmac) pays for setting up, buffering and wiping on every token.
 */
class Compression extends _SHA256 {
  /** The state after the 64 bytes `view` holds, from `from` (8 words), written into `into`. */
  absorb(from: Int32Array, view: DataView, into: Int32Array): void {
    this.set(from[0]!, from[1]!, from[2]!, from[3]!, from[4]!, from[5]!, from[6]!, from[7]!);
    this.process(view, 0);
    into[0] = this.A;
    into[1] = this.B;
    into[2] = this.C;
    into[3] = this.D;
    into[4] = this.E;
    into[5] = this.F;
    into[6] = this.G;
    into[7] = this.H;
  }

  /** The shared message schedule holds the last block's words: a key's are not left there. */
  wipe(): void {
    this.roundClean();
  }
}

const compression = new Compression();
const block = new Uint8Array(BLOCK);
const blockView = new DataView(block.buffer);
const innerDigest = new Int32Array(8);
const macWords = new Int32Array(8);
/** SHA-256's initial state (FIPS 180-4 §5.3.3). */
const IV = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

export interface SigningKey {
  id: number;
  secret: Buffer;
  /** HMAC's inner and outer states, with the key already absorbed (RFC 2104: key ^ 0x36.., key ^ 0x5c..). */
  inner: Int32Array;
  outer: Int32Array;
}

function signingKey(secret: string): SigningKey {
  const bytes = Buffer.from(secret);
  const key = new Uint8Array(BLOCK);
  // A key longer than a block is hashed first (RFC 2104 §2).
  key.set(bytes.length > BLOCK ? createHash('sha256').update(bytes).digest() : bytes);
  const keyed = (pad: number) => {
    for (let i = 0; i < BLOCK; i++) block[i] = key[i]! ^ pad;
    const state = new Int32Array(8);
    compression.absorb(IV, blockView, state);
    block.fill(0);
    compression.wipe();
    return state;
  };
  const inner = keyed(0x36);
  const outer = keyed(0x5c);
  key.fill(0);
  return { id: createHash('sha256').update(secret).digest()[0]!, secret: bytes, inner, outer };
}

export class Keyring {
  readonly current: SigningKey;
  private readonly byId = new Map<number, SigningKey[]>();

  /** Secrets newest first; the first one signs. */
  constructor(secrets: string[]) {
    if (secrets.length === 0) throw new Error('at least one signing secret is needed');
    const keys = secrets.map(signingKey);
    this.current = keys[0]!;
    for (const key of keys) this.byId.set(key.id, [...(this.byId.get(key.id) ?? []), key]);
  }

  keysFor(id: number): SigningKey[] {
    return this.byId.get(id) ?? [];
  }
}

/**
 * HMAC-SHA256 of `bytes[0, length)` (at most MAX_BODY bytes, as every token body is), into
 * macWords: the inner hash's one padded block, then the outer's.
 */
function mac(key: SigningKey, bytes: Uint8Array, length: number): void {
  block.fill(0);
  for (let i = 0; i < length; i++) block[i] = bytes[i]!;
  block[length] = 0x80;
  blockView.setUint32(BLOCK - 4, (BLOCK + length) * 8);
  compression.absorb(key.inner, blockView, innerDigest);
  block.fill(0);
  for (let i = 0; i < 8; i++) blockView.setInt32(i * 4, innerDigest[i]!);
  block[32] = 0x80;
  blockView.setUint32(BLOCK - 4, (BLOCK + 32) * 8);
  compression.absorb(key.outer, blockView, macWords);
}

/** Byte i of the last MAC (its words are big-endian). */
const macByte = (i: number): number => (macWords[i >> 2]! >>> (24 - 8 * (i & 3))) & 0xff;

/** The MAC's first MAC_BYTES bytes against `given` at `at`, in time that does not depend on where they differ. */
function macMatches(given: Uint8Array, at: number): boolean {
  let diff = 0;
  for (let i = 0; i < MAC_BYTES; i++) diff |= given[at + i]! ^ macByte(i);
  return diff === 0;
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
  if (body.length > MAX_BODY) throw new RangeError(`token body of ${body.length} bytes: at most ${MAX_BODY}`);
  const bytes = Buffer.from(body);
  mac(keys.current, bytes, bytes.length);
  const signed = Buffer.alloc(bytes.length + MAC_BYTES);
  bytes.copy(signed);
  for (let i = 0; i < MAC_BYTES; i++) signed[bytes.length + i] = macByte(i);
  return signed.toString('base64url');
}

/** The token's fields when it is well-formed, of this kind, and signed by a known key; otherwise null. */
export function verifyToken(keys: Keyring, kind: TokenKind, token: string): number[] | null {
  if (!TOKEN_SHAPE.test(token) || !oneSpelling(token)) return null;
  const raw = Buffer.from(token, 'base64url');
  const length = raw.length - MAC_BYTES; // the body's
  if (length < 2 || length > MAX_BODY || raw[1] !== kind) return null;
  let signed = false;
  for (const key of keys.keysFor(raw[0]!)) {
    mac(key, raw, length);
    if ((signed = macMatches(raw, length))) break;
  }
  if (!signed) return null;

  const fields: number[] = [];
  let i = 2;
  while (i < length) {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = i < length ? raw[i++] : undefined;
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
