import { describe, expect, it } from 'vitest';
import type { AppLinks, ClickResolved, MessageStats, PersonStats } from '../../api/types.ts';
import { clickToken, Keyring } from '../../server/tokens/tokens.ts';
import { useTestServer, type TestServer } from '../support/server.ts';
import { sql } from '../support/sql.ts';
import { hit, sendMessage } from '../support/tracking.ts';

let s: TestServer;
useTestServer((server) => {
  s = server;
});

const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;
const FINGERPRINT = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':');
const APP_LINKS: AppLinks = {
  apple: [{ appId: 'ABCDE12345.test.shop.app', paths: ['/c/*'] }],
  android: [{ packageName: 'test.shop.app', sha256CertFingerprints: [FINGERPRINT] }],
};
/** As an app's HTTP client asks, opening a tracked link it claims: iOS's URLSession sends a language, as browsers do. */
const asApp = { ua: 'Shop/2.3 CFNetwork/1490.0.4 Darwin/23.2.0', headers: { accept: 'application/json' } };

describe('the app-link files of the tracking domain', () => {
  it('are 404 while settings name no app', async () => {
    for (const path of ['/.well-known/apple-app-site-association', '/.well-known/assetlinks.json']) {
      const res = await s.fetch(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('location')).toBeNull();
    }
  });

  it('are served from settings.appLinks as application/json, with no redirect', async () => {
    expect((await s.api('PATCH', '/api/settings', { appLinks: APP_LINKS })).status).toBe(200);
    const apple = await s.fetch('/.well-known/apple-app-site-association');
    expect(apple.status).toBe(200);
    expect(apple.headers.get('content-type')).toMatch(/^application\/json\b/);
    expect(await apple.json()).toEqual({ applinks: { details: [{ appIDs: ['ABCDE12345.test.shop.app'], components: [{ '/': '/c/*' }] }] } });

    const android = await s.fetch('/.well-known/assetlinks.json');
    expect(android.status).toBe(200);
    expect(android.headers.get('content-type')).toMatch(/^application\/json\b/);
    expect(await android.json()).toEqual([
      {
        relation: ['delegate_permission/common.handle_all_urls'],
        target: { namespace: 'android_app', package_name: 'test.shop.app', sha256_cert_fingerprints: [FINGERPRINT] },
      },
    ]);

    // One platform configured, the other not.
    await s.api('PATCH', '/api/settings', { appLinks: { apple: [], android: APP_LINKS.android } });
    expect((await s.fetch('/.well-known/apple-app-site-association')).status).toBe(404);
    expect((await s.fetch('/.well-known/assetlinks.json')).status).toBe(200);
  });

  it('are refused in settings when they are not what the platforms read', async () => {
    for (const appLinks of [
      { apple: [{ appId: 'test.shop.app', paths: ['/c/*'] }], android: [] },
      { apple: [], android: [{ packageName: 'test.shop.app', sha256CertFingerprints: ['ab:cd'] }] },
      { apple: [] },
    ]) {
      expect((await s.api('PATCH', '/api/settings', { appLinks })).status, JSON.stringify(appLinks)).toBe(400);
    }
  });
});

describe('an app resolving a tracked link it opened', () => {
  it('gets the destination as JSON, and the click is that recipient’s, as a redirect would record it', async () => {
    const sent = await sendMessage(s, '<a href="https://www.shop.test/orders/42?src={{email}}">your order</a>', [{ email: 'ann@shop.test' }]);
    const link = sent.copies.get('ann@shop.test')!.links[0]!;

    const res = await hit(s, link, asApp);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('location')).toBeNull();
    // No page is behind an app's request: no cookie for it.
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.json()).toEqual({ url: 'https://www.shop.test/orders/42?src=ann%40shop.test' } satisfies ClickResolved);

    const stats = await json<MessageStats>(s.api('GET', `/api/messages/${sent.id}/stats`));
    expect(stats.clicks).toEqual({ total: 1, unique: 1, bot: 0, suspect: 0 });
    const [ann] = await json<PersonStats[]>(s.api('GET', `/api/messages/${sent.id}/people`));
    expect(ann!.clicks).toMatchObject([{ linkId: sent.links[0]!.id, count: 1 }]);

    // The same rules as a redirect: an HTTP library's own user agent is a machine's.
    expect((await hit(s, link, { ua: 'okhttp/4.12.0', headers: asApp.headers })).status).toBe(200);
    expect(await sql(s, 'SELECT bot_reason FROM clicks ORDER BY id')).toEqual([{ bot_reason: null }, { bot_reason: 'bot-ua' }]);
  });

  it('gets a 404 as JSON for a forged or unknown token, and never a Location', async () => {
    const sent = await sendMessage(s, '<a href="https://www.shop.test/">shop</a>', [{ email: 'ann@shop.test' }]);
    const token = sent.copies.get('ann@shop.test')!.links[0]!.slice(3);
    const ids = clickToken.verify(s.ctx.keys, token)!;
    for (const forged of [
      clickToken.sign(new Keyring(['another server']), ids.recipientId, ids.linkId),
      clickToken.sign(s.ctx.keys, ids.recipientId + 100, ids.linkId),
      clickToken.sign(s.ctx.keys, ids.recipientId, ids.linkId + 100),
      `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`,
      'not-a-token-at-all-but-long',
    ]) {
      const res = await hit(s, `/c/${forged}`, asApp);
      expect(res.status, forged).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('location')).toBeNull();
      expect(await res.json()).toEqual({ error: 'this link is not valid' });
    }
    expect(await sql(s, 'SELECT count(*) AS n FROM clicks')).toEqual([{ n: 0 }]);
    // A browser still gets the page.
    expect((await hit(s, `/c/${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`)).headers.get('content-type')).toMatch(/^text\/html/);
  });
});
