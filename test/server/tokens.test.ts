import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { clickToken, identityCookie, Keyring, openToken, signToken, TokenKind, verifyToken } from '../../server/tokens/tokens.ts';

const keys = new Keyring(['first-secret-for-tests']);

describe('signed tokens', () => {
  it('round-trips and stays short and URL-safe', () => {
    const t = clickToken.sign(keys, 123_456, 7_890_123);
    expect(t).toMatch(/^[A-Za-z0-9_-]{16,32}$/);
    expect(clickToken.verify(keys, t)).toEqual({ recipientId: 123_456, linkId: 7_890_123 });
    expect(openToken.verify(keys, openToken.sign(keys, 5))).toEqual({ recipientId: 5 });
  });

  it('is HMAC-SHA256 of its bytes, truncated, as node:crypto computes it, for every key of a rotation', () => {
    const secrets = ['first-secret-for-tests', 'a second, longer secret than one hash block of sixty-four bytes holds'];
    const ring = new Keyring(secrets);
    for (const secret of secrets) {
      const id = createHash('sha256').update(secret).digest()[0]!;
      for (const fields of [[1, 2], [123_456, 7_890_123], [2 ** 40, 0]]) {
        const body = Buffer.from(Buffer.from(clickToken.sign(new Keyring([secret]), fields[0]!, fields[1]!), 'base64url').subarray(0, -10));
        expect(body[0]).toBe(id);
        const made = Buffer.concat([body, createHmac('sha256', secret).update(body).digest().subarray(0, 10)]).toString('base64url');
        expect(clickToken.verify(ring, made)).toEqual({ recipientId: fields[0], linkId: fields[1] });
      }
    }
  });

  it('signs a body of every length a block holds as node:crypto would, and refuses a longer one', () => {
    const secret = 'first-secret-for-tests';
    // 2 to 55 bytes: a key id, a kind, and varint fields of one to eight bytes each.
    for (let bytes = 0; bytes <= 53; bytes++) {
      const fields = Array.from({ length: bytes }, (_, i) => i % 100);
      const token = signToken(keys, TokenKind.click, fields);
      const raw = Buffer.from(token, 'base64url');
      const body = raw.subarray(0, -10);
      expect(body.length).toBe(2 + bytes);
      expect(raw.subarray(-10)).toEqual(createHmac('sha256', secret).update(body).digest().subarray(0, 10));
      // A link's token is at most 64 characters (a 38-byte body): a longer one is refused by its shape.
      expect(verifyToken(keys, TokenKind.click, token)).toEqual(token.length <= 64 ? fields : null);
    }
    expect(() => signToken(keys, TokenKind.click, Array.from({ length: 54 }, () => 1))).toThrow(RangeError);
  });

  it('refuses any change to a token, a token of another kind, and one signed with another secret', () => {
    const t = clickToken.sign(keys, 1, 2);
    for (let i = 0; i < t.length; i++) {
      const c = t[i] === 'A' ? 'B' : 'A';
      expect(clickToken.verify(keys, t.slice(0, i) + c + t.slice(i + 1))).toBeNull();
    }
    expect(clickToken.verify(keys, t + 'A')).toBeNull();
    expect(clickToken.verify(keys, t.slice(0, -1))).toBeNull();
    expect(openToken.verify(keys, t)).toBeNull();
    expect(clickToken.verify(new Keyring(['another-secret']), t)).toBeNull();
    for (const junk of ['', '//evil.com', 'a'.repeat(500), '%2F%2Fevil.com', t + '/extra', t + '?x=1', 'AAAAAAAAAAAAAAAAAAAAAAAA']) {
      expect(clickToken.verify(keys, junk)).toBeNull();
    }
  });

  it('accepts only the spelling it issues, not the others that decode to the same bytes', () => {
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // Found by the audit: the last character's unused bits gave every token 3 more spellings.
    let checked = 0;
    const cases: [string, (t: string) => unknown][] = [
      [clickToken.sign(keys, 1, 2), (t) => clickToken.verify(keys, t)],
      [clickToken.sign(keys, 123_456, 7), (t) => clickToken.verify(keys, t)],
      [openToken.sign(keys, 42), (t) => openToken.verify(keys, t)],
    ];
    for (const [t, verify] of cases) {
      expect(verify(t)).not.toBeNull();
      for (const c of ALPHABET) {
        const other = t.slice(0, -1) + c;
        if (other === t) continue;
        // Same bytes when decoded, or different ones: refused either way.
        if (Buffer.from(other, 'base64url').equals(Buffer.from(t, 'base64url'))) checked++;
        expect(verify(other)).toBeNull();
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('keeps old tokens valid after a rotation, signing new ones with the new secret', () => {
    const old = clickToken.sign(keys, 1, 2);
    const rotated = new Keyring(['second-secret-for-tests', 'first-secret-for-tests']);
    expect(clickToken.verify(rotated, old)).toEqual({ recipientId: 1, linkId: 2 });
    const fresh = clickToken.sign(rotated, 1, 2);
    expect(fresh).not.toBe(old);
    expect(clickToken.verify(keys, fresh)).toBeNull();
  });

  it('reads the identity cookie: the click token and the click time, each in the one spelling issued', () => {
    const token = clickToken.sign(keys, 8, 7);
    const at = Date.UTC(2026, 11, 1, 12, 0, 0, 123);
    const value = identityCookie.value(token, at);
    expect(value).toMatch(/^[A-Za-z0-9_-]+\.[0-9a-z]+$/);
    expect(identityCookie.read(keys, value)).toEqual({ recipientId: 8, linkId: 7, clickAt: at });
    const time = at.toString(36);
    for (const wrong of [
      token, // no time
      `${token}.`,
      `${token}.${time.toUpperCase()}`,
      `${token}.0${time}`,
      `${token}.${time}.${time}`,
      `${token}.-${time}`,
      `${token}.${'z'.repeat(12)}`,
      `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}.${time}`, // the token changed
      `${openToken.sign(keys, 8)}.${time}`, // not a click's
      `${clickToken.sign(new Keyring(['another-secret']), 8, 7)}.${time}`,
      '',
      '.',
    ]) {
      expect(identityCookie.read(keys, wrong), wrong).toBeNull();
    }
  });
});
