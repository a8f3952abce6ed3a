import { describe, expect, it } from 'vitest';
import { useTestServer, type TestServer } from '../support/server.ts';

let s: TestServer;
useTestServer((server) => {
  s = server;
});

const LISTS = [
  ['/api/messages', 200],
  ['/api/conversations', 200],
  ['/api/notifications', 500],
  ['/api/suppressions', 500],
] as const;

describe('?limit= on lists', () => {
  it('refuses what is not a whole number within the cap with a 400 that says so', async () => {
    for (const [path, max] of LISTS) {
      // Found by the audit: -1 skipped the cap, 1.5 reached the database and answered 500.
      for (const bad of ['-1', '1.5', '0', 'abc', '', '1e3', String(max + 1), '9'.repeat(20), ' 5']) {
        const res = await s.api('GET', `${path}?limit=${encodeURIComponent(bad)}`);
        expect(res.status, `${path}?limit=${bad}`).toBe(400);
        expect(await res.json()).toEqual({ error: `limit must be a whole number from 1 to ${max}` });
      }
      for (const good of ['1', String(max)]) expect((await s.api('GET', `${path}?limit=${good}`)).status, `${path}?limit=${good}`).toBe(200);
      expect((await s.api('GET', path)).status).toBe(200);
    }
  });

  it('returns at most limit items', async () => {
    for (let i = 0; i < 3; i++) await s.api('POST', '/api/messages', { subject: `m${i}`, html: '<p>x</p>' });
    expect(((await (await s.api('GET', '/api/messages?limit=2')).json()) as unknown[]).length).toBe(2);
    expect(((await (await s.api('GET', '/api/messages')).json()) as unknown[]).length).toBe(3);
  });
});
