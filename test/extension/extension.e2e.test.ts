import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page, Worker } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, MessageCreated, MessageStats, MessengerBootResult, WidgetConversation } from '../../api/types.ts';
import type { ShownNotification } from '../../extension/background/team-events/notification-log.ts';
import type { RunningServer } from '../../server/server.ts';
import { HUMAN_UA, launchWithExtension } from '../support/browser.ts';
import { removeDir, trackedUrls } from '../support/server.ts';
import { buildExtension, gmailWrap, pageServer, startShopServer, webmailPage } from './support.ts';
import { adminApi } from '../support/admin-api.ts';

/** Inside extension pages and the worker, where Chrome's promise-returning API is what the polyfill describes. */
declare const chrome: import('webextension-polyfill').Browser;

const TOKEN = 'e2e-admin-token-0123456789';
const BOT_UA = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const SITE = 'http://www.shop.test';

let dir: string;
let server: RunningServer;
let apiBase: string;
let publicUrl: string;
let mail: { server: Server; port: number };
let context: BrowserContext;
let worker: Worker;
let extensionId: string;
const pages: Record<string, string> = {};

const api = adminApi(() => apiBase, TOKEN);

/** A click through the real redirect, as a person's browser or a scanner makes it. */
async function click(url: string, as: 'human' | 'bot-ua' | 'head'): Promise<Response> {
  const res = await fetch(url.replace(publicUrl, apiBase), {
    method: as === 'head' ? 'HEAD' : 'GET',
    redirect: 'manual',
    headers: { 'user-agent': as === 'bot-ua' ? BOT_UA : HUMAN_UA, accept: 'text/html' },
  });
  expect(res.status).toBe(302);
  return res;
}

const storage = <T>(key: string) => worker.evaluate(async (k) => (await chrome.storage.local.get(k))[k], key) as Promise<T>;

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function extensionPage(path: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`chrome-extension://${extensionId}/${path}`);
  return page;
}

/** Overlays a tab as the popup's button does (the test build's granted host stands in for activeTab). */
async function overlayTab(url: string): Promise<void> {
  const page = await extensionPage('options/options.html');
  const reply = await page.evaluate(async (pattern) => {
    const [tab] = await chrome.tabs.query({ url: pattern });
    if (!tab) throw new Error(`no tab at ${pattern}`);
    return chrome.runtime.sendMessage({ type: 'overlay.inject', tabId: tab!.id });
  }, url);
  expect(reply).toEqual({ ok: true });
  await page.close();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clicktrail-ext-'));
  ({ server, apiBase, publicUrl } = await startShopServer(dir, TOKEN));
  mail = await pageServer(pages);
  const extensionDir = join(dir, 'extension');
  buildExtension(extensionDir, ['http://127.0.0.1/*', 'http://mail.shop.test/*']);
  context = await launchWithExtension(join(dir, 'profile'), extensionDir);
  worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  extensionId = new URL(worker.url()).host;
}, 120_000);

afterAll(async () => {
  await context?.close();
  mail?.server.close();
  await server?.stop();
  removeDir(dir);
});

describe('the extension against a real server', () => {
  let message: MessageCreated;
  let adaCookie: string;
  const linkId = (position: number) => message.links.find((l) => l.position === position)!.id;

  it('takes the server URL and token in its options page and tests the connection', async () => {
    const page = await extensionPage('options/options.html');
    await page.fill('input[name=url]', `${apiBase}/`);
    await page.fill('input[name=token]', TOKEN);
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('.result')).toBe('Saved.');
    await page.click('button.test');
    await expect.poll(() => page.textContent('.result')).toMatch(/^Connected\. Click tracking on/);
    expect(await storage('server')).toEqual({ url: apiBase, token: TOKEN });
    // The token is in extension storage, never in a page's.
    await until('a baseline of team events', async () => (await storage<number | null>('lastEventId')) !== null);
    await page.close();
  });

  it('paints each placement of the sent mail with its heat, count and clickers, in a webmail page', async () => {
    await api('PATCH', '/api/settings', { scannerWindowSeconds: 0, earlyWindowSeconds: 0, identificationDelaySeconds: 2, allowedOrigins: [SITE] });
    message = await api<MessageCreated>('POST', '/api/messages', {
      subject: 'Spring sale',
      html: `<p>Hi {{first_name}},</p>
<p><a href="https://shop.test/sale">Shop the sale</a></p>
<p>Or, once more: <a href="https://shop.test/sale">see the sale</a>.</p>
<p><a href="https://shop.test/pricing">Pricing</a> · <a href="https://shop.test/blog">Our blog</a></p>
<p><a href="mailto:help@shop.test">Write to us</a></p>`,
    });
    await api('POST', `/api/messages/${message.id}/recipients`, {
      recipients: [
        { email: 'ada@shop.test', name: 'Ada Lovelace' },
        { email: 'ben@shop.test' },
        { email: 'cy@shop.test', name: 'Cy Twombly' },
      ],
    });
    expect(await api('POST', `/api/messages/${message.id}/send`)).toMatchObject({ sent: 3, failed: 0 });
    const links = async (email: string) => {
      const res = await fetch(`${apiBase}/api/messages/${message.id}/preview?email=${email}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const html = await res.text();
      return { html, urls: trackedUrls(html, publicUrl) };
    };
    const [ada, ben, cy] = await Promise.all([links('ada@shop.test'), links('ben@shop.test'), links('cy@shop.test')]);

    // The script: humans 4 / 1 / 1 / 0 on positions 0..3, a bot hit on 0, 2 and 3.
    const adaClick = await click(ada.urls[0]!, 'human');
    adaCookie = /clicktrail_id=([^;]+)/.exec(adaClick.headers.get('set-cookie') ?? '')![1]!;
    await click(ada.urls[0]!, 'human');
    await click(ada.urls[2]!, 'human');
    await click(ben.urls[0]!, 'human');
    await click(ben.urls[1]!, 'human');
    await click(cy.urls[0]!, 'human');
    await click(ada.urls[0]!, 'head');
    await click(cy.urls[2]!, 'head');
    await click(ben.urls[3]!, 'bot-ua');
    await until('the clicks to be recorded', async () => {
      const s = await api<MessageStats>('GET', `/api/messages/${message.id}/stats`);
      return s.clicks.total === 6 && s.clicks.bot === 3;
    });

    // Ada's copy in the sent folder: two links wrapped by Gmail's redirector, a foreign link, no open pixel.
    const body = ada.html
      .replace(/<img[^>]*\/o\/[^>]*>/, '')
      .replace(`href="${ada.urls[1]}"`, `href="${gmailWrap(ada.urls[1]!)}"`)
      .replace(`href="${ada.urls[3]}"`, `href="${gmailWrap(ada.urls[3]!)}"`)
      .replace('</body>', '<p><a href="https://elsewhere.example/">A foreign link</a></p></body>');
    pages['/sent/1'] = webmailPage('Spring sale', body);
    const page = await context.newPage();
    await page.goto(`http://mail.shop.test:${mail.port}/sent/1`);
    await overlayTab(page.url());

    const badges = page.locator('[data-clicktrail-overlay] .badge');
    await expect.poll(() => badges.count()).toBe(4);
    const painted = await badges.evaluateAll((els) =>
      els.map((e) => ({ link: Number(e.getAttribute('data-link-id')), clicks: Number(e.textContent), rank: Number(e.getAttribute('data-rank')) })),
    );
    expect(painted).toEqual([
      { link: linkId(0), clicks: 4, rank: 1 },
      { link: linkId(1), clicks: 1, rank: 2 },
      { link: linkId(2), clicks: 1, rank: 2 },
      { link: linkId(3), clicks: 0, rank: 3 },
    ]);
    const colours = await page.locator('[data-clicktrail-overlay] .box').evaluateAll((els) => els.map((e) => (e as HTMLElement).style.getPropertyValue('--heat')));
    expect(new Set(colours).size).toBe(3); // hottest, warm (two links alike), no clicks

    await page.hover('a:has-text("Shop the sale")');
    const card = page.locator('[data-clicktrail-overlay] .card');
    await expect.poll(() => card.count()).toBe(1);
    expect(await card.locator('.person .who').allTextContents()).toEqual(['Ada Lovelace', 'Cy Twombly', 'ben@shop.test']); // most clicks, then latest
    expect(await card.locator('.person .when').allTextContents()).toEqual([
      expect.stringMatching(/^×2 · /),
      expect.stringMatching(/^×1 · /),
      expect.stringMatching(/^×1 · /),
    ]);
    expect(await card.locator('.bots').textContent()).toBe('1 suspected-bot hits kept apart');

    await page.hover('a:has-text("Our blog")');
    await expect.poll(() => card.locator('.none').count()).toBe(1);
    expect(await card.locator('.bots').textContent()).toBe('1 suspected-bot hits kept apart');

    // The toggle hides the paint and keeps the legend.
    await page.click('[data-clicktrail-overlay] button.toggle');
    await expect.poll(() => badges.count()).toBe(0);
    await page.click('[data-clicktrail-overlay] button.toggle');
    await expect.poll(() => badges.count()).toBe(4);
    await page.close();
  });

  it('shows the same numbers in the popup, with a chart', async () => {
    const stats = await api<MessageStats>('GET', `/api/messages/${message.id}/stats`);
    const page = await extensionPage('popup/popup.html');
    const row = page.locator(`li.message[data-message-id="${message.id}"]`);
    await expect.poll(() => row.locator('.clicked').textContent()).toBe(String(stats.clicks.unique));
    expect(stats.clicks.unique).toBe(3);
    expect(await row.locator('.sent').textContent()).toBe('3');
    expect(await row.locator('.click-rate').textContent()).toBe('100%');
    expect(await row.locator('.clicked').getAttribute('title')).toBe('6 human clicks by 3 people; 3 suspected bots');
    await expect.poll(() => row.locator('svg.sparkline rect.human').count()).toBeGreaterThan(0);
    expect(await row.locator('svg.sparkline rect.bot').count()).toBeGreaterThan(0);

    // Offline, the popup still opens with the last numbers it saw.
    await context.setOffline(true);
    await page.reload();
    await expect.poll(() => row.locator('.clicked').textContent()).toBe('3');
    await context.setOffline(false);
    await page.close();
  });

  it('notifies a lead’s visit once, and a reply from the inbox reaches the conversation', async () => {
    const boot = await fetch(`${apiBase}/messenger/boot`, {
      method: 'POST',
      headers: { origin: SITE, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${SITE}/pricing`, identity: adaCookie }),
    });
    expect(boot.status).toBe(200);
    const { session } = (await boot.json()) as MessengerBootResult;

    const visit = await until('a lead.visit notification', async () =>
      ((await storage<ShownNotification[]>('notificationsShown')) ?? []).find((n) => n.type === 'lead.visit'),
    );
    expect(visit).toMatchObject({ title: 'Ada Lovelace is on your site', message: `${SITE}/pricing` });

    const started = await fetch(`${apiBase}/messenger/conversations`, {
      method: 'POST',
      headers: { origin: SITE, 'content-type': 'application/json', authorization: `Bearer ${session!.id}.${session!.secret}` },
      body: JSON.stringify({ body: 'Do you ship to Norway?', clientId: 'e2e-question-0001' }),
    });
    const conversation = (await started.json()) as WidgetConversation;
    const created = await until('a conversation notification', async () =>
      ((await storage<ShownNotification[]>('notificationsShown')) ?? []).find((n) => n.type === 'conversation.created'),
    );
    expect(created).toMatchObject({ conversationId: conversation.id, message: 'Do you ship to Norway?' });

    // Stream and poller both ran: still one notification per event.
    await worker.evaluate(() => new Promise((r) => setTimeout(r, 500)));
    const shown = (await storage<ShownNotification[]>('notificationsShown'))!;
    expect(new Set(shown.map((n) => n.eventId)).size).toBe(shown.length);

    // Where a click on that notification leads.
    const inbox = await extensionPage(`inbox/inbox.html#conversation=${conversation.id}`);
    await expect.poll(() => inbox.locator('.bubble.visitor').first().textContent()).toMatch(/^Do you ship to Norway\?/);
    await inbox.fill('textarea[name=reply]', 'We do! Shipping to Norway takes 3 days.');
    await inbox.click('form.reply button[type=submit]');
    await expect.poll(() => inbox.locator('.bubble.team').count()).toBe(1);
    const thread = await api<Conversation>('GET', `/api/conversations/${conversation.id}`);
    expect(thread.messages.map((m) => [m.author, m.body])).toEqual([
      ['visitor', 'Do you ship to Norway?'],
      ['team', 'We do! Shipping to Norway takes 3 days.'],
    ]);
    await inbox.close();
  });

  it('paints 200 links (the figure is logged, not asserted)', async () => {
    const html = Array.from({ length: 200 }, (_, i) => `<p><a href="https://shop.test/item/${i}">Item ${i}</a></p>`).join('\n');
    const big = await api<MessageCreated>('POST', '/api/messages', { subject: 'Two hundred links', html });
    await api('POST', `/api/messages/${big.id}/recipients`, { recipients: [{ email: 'ada@shop.test', name: 'Ada Lovelace' }] });
    await api('POST', `/api/messages/${big.id}/send`);
    const res = await fetch(`${apiBase}/api/messages/${big.id}/preview?email=ada@shop.test`, { headers: { authorization: `Bearer ${TOKEN}` } });
    pages['/sent/200'] = webmailPage('Two hundred links', await res.text());
    const page = await context.newPage();
    await page.goto(`http://mail.shop.test:${mail.port}/sent/200`);
    await overlayTab(page.url());
    const host = page.locator('[data-clicktrail-overlay]');
    await expect.poll(() => host.getAttribute('data-links')).toBe('200');
    // The first paint, then four more (the script removes a painted overlay and paints again): this
    // machine is shared, so one figure alone says little.
    const figures = [Number(await host.getAttribute('data-paint-ms'))];
    for (let i = 0; i < 4; i++) {
      await overlayTab(page.url());
      await expect.poll(() => host.count()).toBe(0);
      await overlayTab(page.url());
      await expect.poll(() => host.getAttribute('data-links')).toBe('200');
      figures.push(Number(await host.getAttribute('data-paint-ms')));
    }
    const median = [...figures].sort((a, b) => a - b)[2]!;
    console.log(
      `[overlay] painted 200 links after the stats arrived: first ${figures[0]!.toFixed(1)} ms, median of 5 ${median.toFixed(1)} ms (budget 100 ms)`,
    );
    expect(figures.every((ms) => ms > 0)).toBe(true);
    await page.close();
  });
});
