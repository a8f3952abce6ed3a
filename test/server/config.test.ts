import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageCreated } from '../../api/types.ts';
import { loadConfig } from '../../server/config/config.ts';
import { clickToken } from '../../server/tokens/tokens.ts';
import { removeDir, tempDir, testServer, trackedUrls } from '../support/server.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

describe('configuration', () => {
  it('generates the admin token and secret once, owner-only, and reuses them', () => {
    const dir = tempDir();
    dirs.push(dir);
    const env = { CLICKTRAIL_DB: join(dir, 'data', 'ct.db') };
    const first = loadConfig(env);
    expect(first.adminToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(first.publicUrl).toBe('http://localhost:8787');
    expect(first.outbox).toBe(join(dir, 'data', 'outbox'));
    for (const file of ['admin-token', 'secret']) {
      expect(statSync(join(dir, 'data', file)).mode & 0o777).toBe(0o600);
    }
    const second = loadConfig(env);
    expect(second.adminToken).toBe(first.adminToken);
    expect(second.secrets).toEqual(first.secrets);
    expect(loadConfig({ ...env, CLICKTRAIL_ADMIN_TOKEN: 'given', CLICKTRAIL_SECRET: 'new,old' })).toMatchObject({
      adminToken: 'given',
      secrets: ['new', 'old'],
    });
  });

  it('refuses a public URL that is not http(s) and a bad port', () => {
    const dir = tempDir();
    dirs.push(dir);
    expect(() => loadConfig({ CLICKTRAIL_DB: join(dir, 'a.db'), CLICKTRAIL_PUBLIC_URL: 'ftp://x' })).toThrow(/http/);
    expect(() => loadConfig({ CLICKTRAIL_DB: join(dir, 'a.db'), PORT: 'eighty' })).toThrow(/PORT/);
  });

  it('keeps sent tracked links valid across a restart', async () => {
    const first = testServer();
    dirs.push(first.dir);
    const { id, links } = (await (await first.api('POST', '/api/messages', { subject: 's', html: '<a href="https://x.test/a">a</a>' })).json()) as MessageCreated;
    await first.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'a@shop.test' }] });
    const [url] = trackedUrls(await (await first.api('GET', `/api/messages/${id}/preview?email=a@shop.test`)).text());
    await first.close();

    const second = testServer({}, first.dir);
    expect(second.ctx.config.adminToken).toBe(first.ctx.config.adminToken);
    expect(clickToken.verify(second.ctx.keys, url!.split('/c/')[1]!)).toMatchObject({ linkId: links[0]!.id });
    expect(await (await second.api('GET', `/api/messages/${id}`)).json()).toMatchObject({ id, links });
    await second.close();
  });
});
