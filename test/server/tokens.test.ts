import { describe, expect, it } from 'vitest';
import { clickToken, identityToken, Keyring, openToken } from '../../server/tokens/tokens.ts';

const keys = new Keyring(['first-secret-for-tests']);

describe('signed tokens', () => {
  it('round-trips and stays short and URL-safe', () => {
    const t = clickToken.sign(keys, 123_456, 7_890_123);
    expect(t).toMatch(/^[A-Za-z0-9_-]{16,32}$/);
    expect(clickToken.verify(keys, t)).toEqual({ recipientId: 123_456, linkId: 7_890_123 });
    expect(openToken.verify(keys, openToken.sign(keys, 5))).toEqual({ recipientId: 5 });
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
    const identity = identityToken.sign(keys, { personId: 1, recipientId: 2, linkId: 3, expiresAt: Date.now() + 60_000, clickAt: Date.now() });
    const cases: [string, (t: string) => unknown][] = [
      [clickToken.sign(keys, 1, 2), (t) => clickToken.verify(keys, t)],
      [clickToken.sign(keys, 123_456, 7), (t) => clickToken.verify(keys, t)],
      [openToken.sign(keys, 42), (t) => openToken.verify(keys, t)],
      [identity, (t) => identityToken.verify(keys, t)],
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

  it('expires identity tokens', () => {
    const now = Date.now();
    const t = identityToken.sign(keys, { personId: 9, recipientId: 8, linkId: 7, expiresAt: now + 60_000, clickAt: now - 5 });
    expect(identityToken.verify(keys, t, now)).toMatchObject({ personId: 9, recipientId: 8, linkId: 7, clickAt: now - 5 });
    expect(identityToken.verify(keys, t, now + 61_000)).toBeNull();
  });
});
