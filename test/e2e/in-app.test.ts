import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright';
import type { MessageCreated, MessageStats, MessengerBootResult, PersonStats, Settings } from '../../api/types.ts';
import { loadConfig } from '../../server/config/config.ts';
import { userHash } from '../../server/messenger/identify.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import { adminApi } from '../support/admin-api.ts';
import { HUMAN_UA, launchBrowser } from '../support/browser.ts';
import { freePort, removeDir, tempDir } from '../support/server.ts';
import { ensureWidgetBuilt } from '../widget/built-widget.ts';

/**
 * In-app messages in real Chromium: links.shop.test is the Clicktrail server, www.shop.test a
 * shop page embedding the widget (CSS hostile to anything it could reach), both on loopback.
 */

const ADMIN = 'e2e-in-app-token';
let dir: string;
let running: RunningServer;
let site: Server;
let browser: Browser;
let links: string;
let shop: string;

const api = adminApi(() => links.replace('links.shop.test', '127.0.0.1'), ADMIN);

function shopPage(queued: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<style>head, script, style { display: none !important } * { all: unset } html { font-size: 40px } .card, section, a { color: rgb(1, 2, 3); display: none }</style>
<script>window.Clicktrail = window.Clicktrail || function () { (window.Clicktrail.q = window.Clicktrail.q || []).push(arguments); };
${queued}</script>
<script async src="${links}/widget.js"></script></head>
<body><h1>Shop</h1></body></html>`;
}

const card = (page: Page) => page.getByRole('region', { name: 'Message from the team' });
/** Loads a page and the widget's boot answer on it (not a late one of the page before: it boots too). */
async function load(page: Page, url: string): Promise<MessengerBootResult> {
  const path = new URL(url).pathname;
  const booted = page.waitForResponse((r) => {
    if (!r.url().endsWith('/messenger/boot') || r.request().method() !== 'POST') return false;
    return new URL((r.request().postDataJSON() as { url: string }).url).pathname === path;
  });
  await page.goto(url);
  return (await (await booted).json()) as MessengerBootResult;
}
const people = (id: number) => api<PersonStats[]>('GET', `/api/messages/${id}/people`);

beforeAll(async () => {
  await ensureWidgetBuilt();
  mkdirSync(join(tmpdir(), 'clicktrail-shots'), { recursive: true });
  dir = tempDir('clicktrail-e2e-in-app-');
  const port = await freePort();
  links = `http://links.shop.test:${port}`;
  site = createServer((req, res) => {
    const queued = new URL(req.url!, 'http://x').searchParams.get('queued') ?? '';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(shopPage(queued));
  });
  shop = await new Promise<string>((resolve) => site.listen(0, '127.0.0.1', () => resolve(`http://www.shop.test:${(site.address() as { port: number }).port}`)));
  running = await startServer(
    loadConfig({
      PORT: String(port),
      CLICKTRAIL_DB: join(dir, 'clicktrail.db'),
      CLICKTRAIL_PUBLIC_URL: links,
      CLICKTRAIL_COOKIE_DOMAIN: 'shop.test',
      CLICKTRAIL_ADMIN_TOKEN: ADMIN,
      CLICKTRAIL_SECRET: 'e2e-in-app-secret',
    }),
  );
  await api('PATCH', '/api/settings', { allowedOrigins: [shop], deepLinkSchemes: ['myapp'] });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await running?.stop();
  site?.close();
  if (dir) removeDir(dir);
});

describe('in-app messages in a real browser', () => {
  it('show once to the person of the audience and to nobody else; the web and deep links of the card are counted and followed', async () => {
    const { identitySecret } = await api<Settings>('GET', '/api/settings');
    const ada = { userId: 'shopper-1', email: 'ada@shop.test', name: 'Ada Lovelace', userHash: userHash(identitySecret, 'shopper-1') };
    const signedIn = `${shop}/account?queued=${encodeURIComponent(`Clicktrail('identify', ${JSON.stringify(ada)});`)}`;
    const order = await api<MessageCreated>('POST', '/api/messages', {
      channel: 'in_app',
      subject: 'Order 42 shipped',
      html: `<h3>Your order has shipped</h3><p>Hi {{first_name}}, follow it <a href="${shop}/orders/42">on the web</a> or <a href="myapp://orders/42">in the app</a>.</p>`,
      audience: { type: 'people', userIds: ['shopper-1'] },
    });
    await api('POST', `/api/messages/${order.id}/send`);

    const stranger = await (await browser.newContext({ userAgent: HUMAN_UA })).newPage();
    expect((await load(stranger, `${shop}/`)).inApp).toEqual([]);
    await expect.poll(() => stranger.getByRole('button', { name: 'Open chat' }).count()).toBe(1);
    expect(await card(stranger).count()).toBe(0);

    const page = await (await browser.newContext({ userAgent: HUMAN_UA, viewport: { width: 1024, height: 640 } })).newPage();
    expect((await load(page, signedIn)).inApp.map((c) => c.messageId)).toEqual([order.id]);
    await card(page).waitFor();
    expect(await card(page).getByRole('heading').textContent()).toBe('Your order has shipped');
    expect(await card(page).textContent()).toContain('Hi Ada, follow it on the web or in the app.');
    // The page's CSS does not reach it: laid out above the launcher, in the widget's own colours.
    const box = (await card(page).boundingBox())!;
    const launcher = (await page.getByRole('button', { name: 'Open chat' }).boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(launcher.y);
    expect(await card(page).getByRole('link', { name: 'on the web' }).evaluate((a) => getComputedStyle(a).color)).toBe('rgb(67, 56, 202)');
    await page.screenshot({ path: join(tmpdir(), 'clicktrail-shots', 'widget-in-app-e2e.png') });

    // The deep link: the tracked link answers 302 to the app's URL (no app here to open it).
    const toApp = page.waitForResponse((r) => r.url().startsWith(`${links}/c/`));
    await card(page).getByRole('link', { name: 'in the app' }).click();
    const redirect = await toApp;
    expect(redirect.status()).toBe(302);
    expect(redirect.headers().location).toBe('myapp://orders/42');
    // The web link: followed to the shop.
    await card(page).getByRole('link', { name: 'on the web' }).click();
    await page.waitForURL(`${shop}/orders/42`);

    await expect
      .poll(async () => (await api<MessageStats>('GET', `/api/messages/${order.id}/stats`)).links.map((l) => l.clicks))
      .toEqual([
        { total: 1, unique: 1, bot: 0, suspect: 0 },
        { total: 1, unique: 1, bot: 0, suspect: 0 },
      ]);
    const [row] = await people(order.id);
    expect(row).toMatchObject({ email: 'ada@shop.test', name: 'Ada Lovelace', dismissedAt: null, clicks: [{ count: 1 }, { count: 1 }] });
    expect(row!.sentAt).not.toBeNull();

    // Back on the shop, and in the stranger's tab: shown to nobody again.
    expect((await load(page, signedIn)).inApp).toEqual([]);
    expect(await card(page).count()).toBe(0);
    expect((await load(stranger, `${shop}/`)).inApp).toEqual([]);
    expect((await api<MessageStats>('GET', `/api/messages/${order.id}/stats`)).sent).toBe(1);
  });

  it('reach the card by keyboard, close it with Escape or its × button, and tell the team', async () => {
    const sale = await api<MessageCreated>('POST', '/api/messages', {
      channel: 'in_app',
      subject: 'Bean sale',
      html: `<p><strong>20% off</strong> every bean this week. <a href="${shop}/beans">See the beans</a></p>`,
      audience: { type: 'everyone' },
    });
    await api('POST', `/api/messages/${sale.id}/send`);

    const page = await (await browser.newContext({ userAgent: HUMAN_UA })).newPage();
    await load(page, `${shop}/`);
    await card(page).waitFor();
    // The first stop of the keyboard: the card itself, named; then its link, then its close button.
    const focused = () => page.evaluate(() => {
      const active = document.querySelector('#clicktrail-messenger')?.shadowRoot?.activeElement;
      return active ? (active.getAttribute('aria-label') ?? active.textContent) : null;
    });
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Message from the team');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('See the beans');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Dismiss message');
    await page.keyboard.press('Escape');
    await expect.poll(() => card(page).count()).toBe(0);
    expect(await focused()).toBe('Open chat');
    await expect.poll(async () => (await people(sale.id)).map((p) => p.dismissedAt !== null)).toEqual([true]);
    expect((await load(page, `${shop}/`)).inApp).toEqual([]);

    const other = await (await browser.newContext({ userAgent: HUMAN_UA })).newPage();
    await load(other, `${shop}/`);
    await other.getByRole('button', { name: 'Dismiss message' }).click();
    await expect.poll(() => card(other).count()).toBe(0);
    await expect.poll(async () => (await people(sale.id)).map((p) => [p.email, p.dismissedAt !== null])).toEqual([
      [null, true],
      [null, true],
    ]);
    await other.reload();
    await other.getByRole('button', { name: 'Open chat' }).waitFor();
    expect(await card(other).count()).toBe(0);
  });
});
