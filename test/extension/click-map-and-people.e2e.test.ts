import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page, Worker } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageCreated, MessageStats } from '../../api/types.ts';
import type { RunningServer } from '../../server/server.ts';
import { HUMAN_UA, launchWithExtension } from '../support/browser.ts';
import { removeDir, trackedUrls } from '../support/server.ts';
import { adminApi } from '../support/admin-api.ts';
import { buildExtension, overlayTab, pageServer, startShopServer, until, webmailPage } from './support.ts';

/**
 * The click map and the people table as a marketer uses them, in real Chromium with the
 * built extension against a real server: a dark mail with a button, a text link and a
 * footer link, sent to five people who did five different things.
 */

declare const chrome: import('webextension-polyfill').Browser;

const TOKEN = 'e2e-click-map-token-0123456789';
const VIEWPORT = { width: 1280, height: 720 };

let dir: string;
let server: RunningServer;
let apiBase: string;
let publicUrl: string;
let mail: { server: Server; port: number };
let context: BrowserContext;
let worker: Worker;
let extensionId: string;
let message: MessageCreated;
const pages: Record<string, string> = {};
const api = adminApi(() => apiBase, TOKEN);

const paragraphs = (n: number) =>
  Array.from({ length: n }, (_, i) => `<p style="margin:0 0 16px;color:#d7dbe0">Paragraph ${i + 1}: we roast the night batch after the shop closes, slowly, so the beans keep their sweetness.</p>`).join('\n');

/** A dark mail, as real ones are written: the colours on a table, not on <body> (a webmail client drops that). */
const DARK_MAIL = `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#111418">
<tr><td style="padding:28px 32px;font:16px/1.6 Arial,sans-serif;color:#d7dbe0">
<h1 style="margin:0 0 16px;color:#ffffff;font-size:24px">Night roast, {{first_name}}</h1>
${paragraphs(3)}
<p style="margin:0 0 24px"><a class="button" href="https://shop.test/night" style="display:inline-block;background:#2bb673;color:#ffffff;padding:12px 22px;border-radius:6px;text-decoration:none;font-weight:bold">Order the night roast</a></p>
<p style="margin:0 0 16px;color:#d7dbe0">New to it? Read <a href="https://shop.test/guide" style="color:#7cc4ff">Your guide, {{first_name}}</a> first.</p>
${paragraphs(8)}
<p class="footer" style="margin:24px 0 0;text-align:right;font-size:12px;color:#9aa3ad">Bean &amp; Leaf · 14 Kiln Lane · <a href="https://shop.test/preferences" style="color:#c9d1d9">Email preferences</a></p>
</td></tr></table>`;

const PEOPLE = [
  { email: 'ada@shop.test', name: 'Ada Lovelace' }, // opens, never clicks
  { email: 'ben@shop.test', name: 'Ben Okri' }, // does nothing
  { email: 'cy@shop.test', name: 'Cy Twombly' }, // opens, clicks the button twice and the guide once, orders
  { email: 'dee@shop.test' }, // only a link checker's HEAD on the button
  { email: 'eve@shop.test', name: 'Eve Ndlovu' }, // clicks the button once, images off (no open)
];

async function click(url: string, method = 'GET'): Promise<void> {
  const res = await fetch(url.replace(publicUrl, apiBase), { method, redirect: 'manual', headers: { 'user-agent': HUMAN_UA, accept: 'text/html' } });
  expect(res.status).toBe(302);
}

const preview = async (email: string) =>
  (await fetch(`${apiBase}/api/messages/${message.id}/preview?email=${email}`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();

const storage = <T>(key: string) => worker.evaluate(async (k) => (await chrome.storage.local.get(k))[k], key) as Promise<T>;

async function extensionPage(path: string): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize(VIEWPORT);
  await page.goto(`chrome-extension://${extensionId}/${path}`);
  return page;
}

async function overlay(page: Page): Promise<Page> {
  expect(await overlayTab(context, extensionId, page.url())).toEqual({ ok: true });
  await page.locator('[data-clicktrail-overlay] .badge').first().waitFor();
  return page;
}

/** Ada's copy in a webmail client's sent folder, overlaid. */
async function overlaidMail(): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize(VIEWPORT);
  await page.goto(`http://mail.shop.test:${mail.port}/sent/night`);
  return overlay(page);
}

const texts = (l: Locator) => l.allTextContents();
type Rect = { x: number; y: number; width: number; height: number };
const intersects = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clicktrail-click-map-'));
  ({ server, apiBase, publicUrl } = await startShopServer(dir, TOKEN));
  mail = await pageServer(pages);
  const extensionDir = join(dir, 'extension');
  buildExtension(extensionDir, ['http://127.0.0.1/*', 'http://mail.shop.test/*']);
  context = await launchWithExtension(join(dir, 'profile'), extensionDir);
  worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  extensionId = new URL(worker.url()).host;
  await worker.evaluate((s) => chrome.storage.local.set({ server: s }), { url: apiBase, token: TOKEN });

  await api('PATCH', '/api/settings', { scannerWindowSeconds: 0, earlyWindowSeconds: 0 });
  message = await api<MessageCreated>('POST', '/api/messages', { subject: 'Night roast, {{first_name}}', html: DARK_MAIL, goal: { event: 'order', withinDays: 7 } });
  await api('POST', `/api/messages/${message.id}/recipients`, { recipients: PEOPLE });
  expect(await api('POST', `/api/messages/${message.id}/send`)).toMatchObject({ sent: 5 });
  const [ada, , cy, dee, eve] = await Promise.all(PEOPLE.map((p) => preview(p.email)));
  const open = (html: string) => fetch(`${apiBase}${/\/o\/[A-Za-z0-9_-]+/.exec(html)![0]}`, { headers: { 'user-agent': HUMAN_UA } });
  await open(ada!);
  await open(cy!);
  const [cyUrls, deeUrls, eveUrls] = [trackedUrls(cy!, publicUrl), trackedUrls(dee!, publicUrl), trackedUrls(eve!, publicUrl)];
  await click(cyUrls[0]!);
  await click(cyUrls[0]!);
  await click(cyUrls[1]!);
  await click(eveUrls[0]!);
  await click(deeUrls[0]!, 'HEAD');
  await api('POST', '/api/events', { email: 'cy@shop.test', name: 'order' });
  await until('the clicks to be recorded', async () => {
    const s = await api<MessageStats>('GET', `/api/messages/${message.id}/stats`);
    return s.clicks.total === 4 && s.clicks.bot === 1 && s.opens.unique === 2;
  });
  pages['/sent/night'] = webmailPage('Night roast', ada!.replace(/<img[^>]*\/o\/[^>]*>/, ''));
}, 120_000);

afterAll(async () => {
  await context?.close();
  mail?.server.close();
  await server?.stop();
  removeDir(dir);
});

describe('the click map', () => {
  it('paints around each link, never on it: the button keeps its own pixels on a dark mail', async () => {
    const page = await context.newPage();
    await page.setViewportSize(VIEWPORT);
    await page.goto(`http://mail.shop.test:${mail.port}/sent/night`);
    const button = page.locator('a.button');
    const box = (await button.boundingBox())!;
    // The badge sits on the button's top-right corner: the rest of it must look exactly as written.
    const inside = { x: box.x + 1, y: box.y + 6, width: box.width * 0.6, height: box.height - 8 };
    const before = await page.screenshot({ clip: inside });
    expect(await overlayTab(context, extensionId, page.url())).toEqual({ ok: true });
    await page.locator('[data-clicktrail-overlay] .badge').first().waitFor();
    expect((await page.screenshot({ clip: inside })).equals(before)).toBe(true);
    // The paint itself is there, around the button.
    const paint = page.locator('[data-clicktrail-overlay] .box').first();
    const ring = (await paint.boundingBox())!;
    expect(ring.x).toBeLessThan(box.x);
    expect(ring.x + ring.width).toBeGreaterThan(box.x + box.width);
    expect(await paint.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgba(0, 0, 0, 0)');
    await page.close();
  });

  it('shows clicks, people or share on the badges, as the legend’s switch says, and remembers it', async () => {
    const page = await overlaidMail();
    const badges = page.locator('[data-clicktrail-overlay] .badge');
    const legend = page.locator('[data-clicktrail-overlay] .legend');
    expect(await texts(badges)).toEqual(['3', '1', '0']); // button, guide, footer link
    expect(await legend.locator('.badge-meaning').textContent()).toBe('Each badge: the link’s human clicks');
    expect(await legend.locator('.totals').textContent()).toBe('4 human clicks by 2 people; 1 suspected-bot hit set apart');

    await legend.locator('.badge-switch [data-shows=people]').click();
    await expect.poll(() => texts(badges)).toEqual(['2', '1', '0']);
    expect(await legend.locator('.badge-meaning').textContent()).toBe('Each badge: the people who clicked the link');
    await legend.locator('.badge-switch [data-shows=share]').click();
    await expect.poll(() => texts(badges)).toEqual(['75%', '25%', '0%']);
    expect(await legend.locator('.badge-meaning').textContent()).toBe('Each badge: the link’s share of all human clicks');
    expect(await legend.locator('.badge-switch [role=radio][aria-checked=true]').textContent()).toBe('Share');
    // The hover card puts the same number forward.
    await page.hover('a.button');
    expect(await page.locator('[data-clicktrail-overlay] .card .numbers .shown').textContent()).toBe('75% of clicks');
    await expect.poll(() => storage('overlayPreferences')).toEqual({ badge: 'share', legendCollapsed: false });

    // After a reload, and in the message view too.
    await page.reload();
    await overlay(page);
    await expect.poll(() => texts(page.locator('[data-clicktrail-overlay] .badge'))).toEqual(['75%', '25%', '0%']);
    expect(await page.locator('[data-clicktrail-overlay] .badge-switch [aria-checked=true]').textContent()).toBe('Share');
    const view = await extensionPage(`message/message.html?id=${message.id}`);
    const frameBadges = view.frameLocator('iframe').locator('[data-clicktrail-overlay] .badge');
    await expect.poll(() => texts(frameBadges)).toEqual(['75%', '25%', '0%']);
    await view.locator('[data-clicktrail-legend] .badge-switch [data-shows=clicks]').click();
    await expect.poll(() => texts(frameBadges)).toEqual(['3', '1', '0']);
    await expect.poll(() => storage('overlayPreferences')).toEqual({ badge: 'clicks', legendCollapsed: false });
    await view.close();
    await page.close();
  });

  it('keeps the legend off the mail’s links and footer, and folds it on request (remembered)', async () => {
    const page = await overlaidMail();
    const legend = page.locator('[data-clicktrail-overlay] .legend');
    const links = page.locator('.message-body a[href]');
    const footer = page.locator('.message-body .footer');
    const clear = async () => {
      const at = (await legend.boundingBox())!;
      // (The hidden honeypot link has no box.)
      for (const link of await links.all()) {
        const box = await link.boundingBox();
        if (box) expect(intersects(at, box)).toBe(false);
      }
      expect(intersects(at, (await footer.boundingBox())!)).toBe(false);
    };
    await clear();

    // Scrolled to its end, the mail's last link sits in the corner the legend tries first (bottom right): not there.
    await page.locator('#pane').evaluate((pane) => pane.scrollTo(0, pane.scrollHeight));
    const last = page.locator('a:has-text("Email preferences")');
    await expect.poll(async () => (await last.boundingBox())!.y + 40 > VIEWPORT.height - 210).toBe(true);
    const size = (await legend.boundingBox())!;
    const bottomRight = { x: VIEWPORT.width - 12 - size.width, y: VIEWPORT.height - 12 - size.height, width: size.width, height: size.height };
    expect(intersects(bottomRight, (await last.boundingBox())!)).toBe(true);
    await expect.poll(() => legend.getAttribute('data-corner')).not.toBe('bottom-right');
    await clear();

    // Folded, it is a small tab; unfolded, the whole legend again; the choice outlives the page.
    await legend.locator('button.fold').click();
    await expect.poll(() => legend.getAttribute('class')).toMatch(/\bcollapsed\b/);
    expect(await legend.locator('.badge-switch').count()).toBe(0);
    expect(await legend.locator('button.unfold').getAttribute('aria-expanded')).toBe('false');
    expect(await legend.locator('button.unfold').textContent()).toContain('Heat: clicks');
    await clear();
    await expect.poll(() => storage('overlayPreferences')).toEqual({ badge: 'clicks', legendCollapsed: true });
    await page.close();

    const again = await overlaidMail();
    const folded = again.locator('[data-clicktrail-overlay] .legend');
    expect(await folded.getAttribute('class')).toMatch(/\bcollapsed\b/);
    await folded.locator('button.unfold').click();
    await expect.poll(() => folded.locator('.badge-switch').count()).toBe(1);
    await expect.poll(() => storage('overlayPreferences')).toEqual({ badge: 'clicks', legendCollapsed: false });
    await again.close();
  });

  it('docks the legend beside the mail in the message view, in view as the page scrolls', async () => {
    const view = await extensionPage(`message/message.html?id=${message.id}`);
    const dock = view.locator('[data-clicktrail-legend] .legend');
    await dock.locator('.totals').waitFor();
    expect(await view.frameLocator('iframe').locator('[data-clicktrail-overlay] .badge').count()).toBe(3);
    expect(await view.frameLocator('iframe').locator('[data-clicktrail-overlay] .legend').count()).toBe(0);
    const frame = view.locator('.frame iframe');
    expect(intersects((await dock.boundingBox())!, (await frame.boundingBox())!)).toBe(false);
    // The frame fits the window (the mail scrolls inside it), and the legend stays on screen when the page scrolls.
    expect((await frame.boundingBox())!.y + (await frame.boundingBox())!.height).toBeLessThanOrEqual(VIEWPORT.height);
    await view.mouse.move(VIEWPORT.width - 100, VIEWPORT.height - 100);
    await view.mouse.wheel(0, 300);
    await expect.poll(async () => (await dock.boundingBox())!.y).toBeGreaterThanOrEqual(0);
    expect((await dock.boundingBox())!.y).toBeLessThan(VIEWPORT.height);
    await view.close();
  });
});

describe('the people table', () => {
  it('filters to who opened without clicking, who didn’t open, who clicked and who was set apart, with why', async () => {
    const view = await extensionPage(`message/message.html?id=${message.id}`);
    const people = view.locator('section.people');
    const names = () => texts(people.locator('tbody tr td.person .name'));
    const filter = (f: string) => people.locator(`.filters [data-filter="${f}"]`).click();
    await expect.poll(() => people.locator('tbody tr').count()).toBe(5);
    expect(await texts(people.locator('.filters button'))).toEqual([
      'Everyone 5',
      'Opened, didn’t click 1',
      'Didn’t open 2',
      'Clicked 2',
      'Set apart as bot 1',
    ]);

    await filter('opened-not-clicked');
    await expect.poll(names).toEqual(['Ada Lovelace']);
    expect(await people.locator('[data-filter="opened-not-clicked"]').getAttribute('aria-pressed')).toBe('true');
    await filter('not-opened');
    await expect.poll(names).toEqual(['Ben Okri', 'dee@shop.test']);
    await filter('clicked');
    await expect.poll(names).toEqual(['Cy Twombly', 'Eve Ndlovu']);
    expect(await texts(people.locator('tbody tr td.clicks'))).toEqual(['3 Order the night roast ×2, Your guide, Cy ×1', '1 Order the night roast ×1']);
    await filter('bot');
    await expect.poll(names).toEqual(['dee@shop.test']);
    expect(await texts(people.locator('tbody tr td.set-apart .hit'))).toEqual(['Order the night roast: HEAD request ×1']);
    await view.close();
  });

  it('sorts by any column from its header, saying so with aria-sort', async () => {
    const view = await extensionPage(`message/message.html?id=${message.id}`);
    const people = view.locator('section.people');
    const names = () => texts(people.locator('tbody tr td.person .name'));
    const header = (column: string) => people.locator(`th[data-column="${column}"]`);
    const sorts = () => people.locator('th').evaluateAll((ths) => ths.map((th) => `${th.getAttribute('data-column')}:${th.getAttribute('aria-sort')}`));
    await expect.poll(() => people.locator('tbody tr').count()).toBe(5);
    expect(await sorts()).toEqual(['person:none', 'opened:none', 'clicks:none', 'set-apart:none', 'goal:none']);

    await header('clicks').locator('button').click();
    await expect.poll(names).toEqual(['Cy Twombly', 'Eve Ndlovu', 'Ada Lovelace', 'Ben Okri', 'dee@shop.test']);
    expect(await sorts()).toEqual(['person:none', 'opened:none', 'clicks:descending', 'set-apart:none', 'goal:none']);
    await header('clicks').locator('button').click();
    await expect.poll(names).toEqual(['Ada Lovelace', 'Ben Okri', 'dee@shop.test', 'Eve Ndlovu', 'Cy Twombly']);
    expect(await header('clicks').getAttribute('aria-sort')).toBe('ascending');
    await header('set-apart').locator('button').click();
    expect((await names())[0]).toBe('dee@shop.test');
    await header('opened').locator('button').click();
    // Latest open first; never opened last.
    await expect.poll(async () => (await names()).slice(0, 2)).toEqual(['Cy Twombly', 'Ada Lovelace']);
    await header('goal').locator('button').click();
    expect((await names())[0]).toBe('Cy Twombly');
    await header('person').locator('button').click();
    await expect.poll(names).toEqual(['Ada Lovelace', 'Ben Okri', 'Cy Twombly', 'dee@shop.test', 'Eve Ndlovu']);
    expect(await sorts()).toEqual(['person:ascending', 'opened:none', 'clicks:none', 'set-apart:none', 'goal:none']);

    // Sorting and a filter together; the goal with its rate beside its count.
    await people.locator('.filters [data-filter="clicked"]').click();
    await header('clicks').locator('button').click();
    await expect.poll(names).toEqual(['Cy Twombly', 'Eve Ndlovu']);
    expect(await view.locator('.summary .goal b').textContent()).toBe('1 · 20%');
    expect(await view.locator('.summary .goal span').textContent()).toBe('goal: order');
    await view.close();
  });
});

describe('merge tags, filled or shown as placeholders', () => {
  it('never shows raw {{…}} in the message view’s header, the popup, the people table or the legend', async () => {
    const view = await extensionPage(`message/message.html?id=${message.id}`);
    // Filled for the first recipient with a name.
    await expect.poll(() => view.locator('h1').textContent()).toBe('Night roast, Ada');
    expect(await view.locator('.sample').textContent()).toBe('Merge tags filled as Ada Lovelace got them.');
    await view.locator('section.people tbody tr').first().waitFor();
    expect(await view.frameLocator('iframe').locator('h1').textContent()).toBe('Night roast, Ada');
    expect(await view.locator('section.links tbody').textContent()).toContain('Your guide, first name');
    for (const where of ['main', 'section.links', 'section.people']) expect(await view.locator(where).first().textContent()).not.toMatch(/\{\{|\}\}/);
    expect(await view.frameLocator('iframe').locator('body').textContent()).not.toMatch(/\{\{|\}\}/);
    await view.close();

    // The popup has no recipient to fill them for: a named placeholder.
    const popup = await extensionPage('popup/popup.html');
    const subject = popup.locator(`li.message[data-message-id="${message.id}"] .subject`);
    await expect.poll(() => subject.textContent()).toBe('Night roast, first name');
    expect(await subject.locator('.placeholder').textContent()).toBe('first name');
    expect(await subject.getAttribute('title')).toBe('Night roast, ‹first name›');
    await popup.close();

    // Over the webmail copy, the subject as its recipient got it.
    const page = await overlaidMail();
    expect(await page.locator('[data-clicktrail-overlay] .legend .subject').textContent()).toBe('Night roast, Ada');
    await page.hover('a:has-text("Your guide")');
    expect(await page.locator('[data-clicktrail-overlay] .card h3').textContent()).toBe('Your guide, first name');
    await page.close();
  });
});
