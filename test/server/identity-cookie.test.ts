import { afterEach, describe, expect, it } from 'vitest';
import { IDENTITY_COOKIE } from '../../api/identity.ts';
import { identityCookie } from '../../server/tokens/tokens.ts';
import { removeDir, testServer, type TestServer } from '../support/server.ts';
import { sql } from '../support/sql.ts';
import { hit, sendMessage } from '../support/tracking.ts';

let s: TestServer;
afterEach(async () => {
  await s.close();
  removeDir(s.dir);
});

const HTML = '<a href="https://www.shop.test/">shop</a>';

function cookieOf(res: Response): Map<string, string> | null {
  const header = res.headers.get('set-cookie');
  if (!header) return null;
  const [pair, ...attrs] = header.split(/;\s*/);
  const map = new Map<string, string>([['', pair!]]);
  for (const a of attrs) {
    const [k, v = ''] = a.split('=');
    map.set(k!.toLowerCase(), v);
  }
  return map;
}

describe('the identity cookie', () => {
  it("is set on a human click: the click's own token and its time, nothing personal, on the configured domain", async () => {
    s = testServer({ CLICKTRAIL_COOKIE_DOMAIN: 'shop.test' });
    const sent = await sendMessage(s, HTML, [{ email: 'michelle@shop.test', name: 'Michelle Obama' }]);
    const res = await hit(s, sent.copies.get('michelle@shop.test')!.links[0]!);
    const cookie = cookieOf(res)!;
    const [name, value] = cookie.get('')!.split('=');
    expect(name).toBe(IDENTITY_COOKIE);
    expect(value).not.toMatch(/michelle|shop|%40|@/i);
    const recipient = (await s.ctx.store.findRecipient(sent.id, 'michelle@shop.test'))!;
    expect(identityCookie.read(s.ctx.keys, value!)).toMatchObject({ recipientId: recipient.id, linkId: sent.links[0]!.id });
    expect(cookie.get('domain')).toBe('shop.test');
    expect(cookie.get('path')).toBe('/');
    expect(cookie.get('samesite')).toBe('Lax');
    expect(cookie.get('max-age')).toBe(String(30 * 86_400));
    expect(cookie.has('secure')).toBe(false); // the public URL is http
    expect(cookie.has('httponly')).toBe(false); // the widget reads it
  });

  it('is Secure when the public URL is https, host-only without a cookie domain, and lives as long as the setting says', async () => {
    s = testServer({ CLICKTRAIL_PUBLIC_URL: 'https://links.shop.test' });
    await s.api('PATCH', '/api/settings', { identityCookieDays: 2 });
    const { id } = (await (await s.api('POST', '/api/messages', { subject: 's', html: HTML })).json()) as { id: number };
    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'a@shop.test' }] });
    await s.api('POST', `/api/messages/${id}/send`);
    await sql(s, 'UPDATE recipients SET sent_at = sent_at - 3600000');
    const preview = await (await s.api('GET', `/api/messages/${id}/preview?email=a@shop.test`)).text();
    const path = /href="https:\/\/links\.shop\.test(\/c\/[^"]+)"/.exec(preview)![1]!;
    const cookie = cookieOf(await hit(s, path))!;
    expect(cookie.has('secure')).toBe(true);
    expect(cookie.has('domain')).toBe(false);
    expect(cookie.get('max-age')).toBe(String(2 * 86_400));
  });

  it('is never set for a suspected bot, with Sec-GPC, with identification off, or outside the window', async () => {
    s = testServer({ CLICKTRAIL_COOKIE_DOMAIN: 'shop.test' });
    const sent = await sendMessage(s, HTML, [{ email: 'a@shop.test' }, { email: 'b@shop.test' }, { email: 'c@shop.test' }]);
    const scanned = sent.copies.get('c@shop.test')!.links[0]!;
    expect(cookieOf(await hit(s, scanned, { method: 'HEAD' }))).toBeNull();
    expect(cookieOf(await hit(s, scanned, { ua: 'Googlebot/2.1 (+http://www.google.com/bot.html)' }))).toBeNull();
    expect(cookieOf(await hit(s, scanned, { headers: { purpose: 'prefetch' } }))).toBeNull();
    // Another recipient: a fifth hit of one link within two seconds would be a machine's ('repeat').
    const url = sent.copies.get('a@shop.test')!.links[0]!;
    const gpc = await hit(s, url, { headers: { 'sec-gpc': '1' } });
    expect(gpc.status).toBe(302);
    expect(cookieOf(gpc)).toBeNull();
    expect(cookieOf(await hit(s, url))).not.toBeNull();

    await s.api('PATCH', '/api/settings', { leadEmailIdentification: false });
    const off = await hit(s, url);
    expect(off.status).toBe(302);
    expect(cookieOf(off)).toBeNull();

    // b's mail went out eight days ago: past the seven-day identification window.
    await s.api('PATCH', '/api/settings', { leadEmailIdentification: true });
    await sql(s, `UPDATE recipients SET sent_at = sent_at - ? WHERE email = 'b@shop.test'`, 8 * 86_400_000);
    const late = await hit(s, sent.copies.get('b@shop.test')!.links[0]!);
    expect(late.status).toBe(302);
    expect(cookieOf(late)).toBeNull();
    await s.api('PATCH', '/api/settings', { identificationWindowDays: 10 });
    expect(cookieOf(await hit(s, sent.copies.get('b@shop.test')!.links[0]!))).not.toBeNull();
  });
});
