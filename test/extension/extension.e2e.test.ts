import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page, Worker } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, MessageCreated, MessageStats, MessengerBootResult, TeamEvent, WidgetConversation } from '../../api/types.ts';
import type { ShownNotification } from '../../extension/background/team-events/notification-log.ts';
import type { RunningServer } from '../../server/server.ts';
import { HUMAN_UA, launchWithExtension } from '../support/browser.ts';
import { removeDir, trackedUrls } from '../support/server.ts';
import { buildExtension, gmailWrap, overlayTab as overlayTabOf, pageServer, startShopServer, until, webmailPage } from './support.ts';
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
let extensionDir: string;
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

async function extensionPage(path: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`chrome-extension://${extensionId}/${path}`);
  return page;
}

async function overlayTab(url: string): Promise<void> {
  expect(await overlayTabOf(context, extensionId, url)).toEqual({ ok: true });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clicktrail-ext-'));
  ({ server, apiBase, publicUrl } = await startShopServer(dir, TOKEN));
  mail = await pageServer(pages);
  extensionDir = join(dir, 'extension');
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
    expect(await card.locator('.bots').textContent()).toBe('1 suspected-bot hit on this link set apart');

    await page.hover('a:has-text("Our blog")');
    await expect.poll(() => card.locator('.none').count()).toBe(1);
    expect(await card.locator('.bots').textContent()).toBe('1 suspected-bot hit on this link set apart');

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
    expect(await row.locator('.clicked').getAttribute('title')).toBe('6 human clicks by 3 people; 3 suspected-bot hits set apart');
    await expect.poll(() => row.locator('svg.sparkline rect.human').count()).toBeGreaterThan(0);
    expect(await row.locator('svg.sparkline rect.bot').count()).toBeGreaterThan(0);

    // Offline, the popup still opens with the last numbers it saw.
    await context.setOffline(true);
    await page.reload();
    await expect.poll(() => row.locator('.clicked').textContent()).toBe('3');
    await context.setOffline(false);
    await page.close();
  });

  it('gives the same suspected-bot hits in the header, the popup and both legends on a message with a honeypot hit', async () => {
    const m = await api<MessageCreated>('POST', '/api/messages', {
      subject: 'Honeypot check',
      html: '<p><a href="https://shop.test/a">First</a> · <a href="https://shop.test/b">Second</a></p>',
    });
    await api('POST', `/api/messages/${m.id}/recipients`, { recipients: [{ email: 'ada@shop.test', name: 'Ada Lovelace' }, { email: 'ben@shop.test' }] });
    await api('POST', `/api/messages/${m.id}/send`);
    const preview = async (email: string) =>
      (await fetch(`${apiBase}/api/messages/${m.id}/preview?email=${email}`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    const [adaHtml, benHtml] = await Promise.all([preview('ada@shop.test'), preview('ben@shop.test')]);
    const [ada, ben] = [trackedUrls(adaHtml, publicUrl), trackedUrls(benHtml, publicUrl)];
    expect(ben).toHaveLength(3); // two links, then the honeypot in the footer
    await click(ada[0]!, 'human');
    await click(ben[1]!, 'bot-ua');
    await click(ben[2]!, 'bot-ua'); // the hidden link
    const stats = await until('the honeypot hit recorded', async () => {
      const s = await api<MessageStats>('GET', `/api/messages/${m.id}/stats`);
      return s.clicks.total === 1 && s.clicks.bot === 2 && s;
    });
    expect(stats.links.reduce((n, l) => n + l.clicks.bot, 0)).toBe(1); // the honeypot is no link of the mail

    // The message view: its header, its link table (a row for the hidden link), the legend beside the mail.
    const view = await extensionPage(`message/message.html?id=${m.id}`);
    await expect.poll(() => view.locator('.summary .bot-hits').textContent()).toBe('2suspected-bot hits');
    expect(await view.locator('.summary .human-clicks').textContent()).toBe('1human click');
    expect(await view.locator('section.links tr.hidden-link td').allTextContents()).toEqual(['hidden link (no person can see it)', '0', '0', '1', '—']);
    const legend = view.locator('[data-clicktrail-legend] .legend .totals');
    await expect.poll(() => legend.textContent()).toBe('1 human click by 1 person; 2 suspected-bot hits set apart (1 on the hidden link)');
    await view.screenshot({ path: join(tmpdir(), 'clicktrail-shots', 'honeypot-message-view.png'), fullPage: true });
    await view.close();

    // The popup.
    const popup = await extensionPage('popup/popup.html');
    const row = popup.locator(`li.message[data-message-id="${m.id}"]`);
    await expect.poll(() => row.locator('.clicked').getAttribute('title')).toBe('1 human click by 1 person; 2 suspected-bot hits set apart (1 on the hidden link)');
    const summary = (await api<{ id: number; clicks: { bot: number } }[]>('GET', '/api/messages')).find((s) => s.id === m.id)!;
    expect(summary.clicks.bot).toBe(stats.clicks.bot);
    await popup.close();

    // The overlay on the mail in a webmail page.
    pages['/sent/honeypot'] = webmailPage('Honeypot check', adaHtml.replace(/<img[^>]*\/o\/[^>]*>/, ''));
    const page = await context.newPage();
    await page.goto(`http://mail.shop.test:${mail.port}/sent/honeypot`);
    await overlayTab(page.url());
    const totals = page.locator('[data-clicktrail-overlay] .legend .totals');
    await expect.poll(() => totals.textContent()).toBe('1 human click by 1 person; 2 suspected-bot hits set apart (1 on the hidden link)');
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
    // Enter sends and Shift+Enter makes a new line, as in the widget.
    const reply = inbox.locator('textarea[name=reply]');
    await reply.click();
    await inbox.keyboard.type('We do!');
    await inbox.keyboard.press('Shift+Enter');
    await inbox.keyboard.type('Shipping to Norway takes 3 days.');
    expect(await reply.inputValue()).toBe('We do!\nShipping to Norway takes 3 days.');
    expect(await inbox.locator('.bubble.team').count()).toBe(0);
    await inbox.keyboard.press('Enter');
    await expect.poll(() => inbox.locator('.bubble.team').count()).toBe(1);
    expect(await reply.inputValue()).toBe('');
    const thread = await api<Conversation>('GET', `/api/conversations/${conversation.id}`);
    expect(thread.messages.map((m) => [m.author, m.body])).toEqual([
      ['visitor', 'Do you ship to Norway?'],
      ['team', 'We do! Shipping to Norway takes 3 days.'.replace(' Shipping', '\nShipping')],
    ]);

    // The "by email click" tag keeps clear of the time, even beside a name too long for the row.
    const row = inbox.locator(`.list li[data-conversation-id="${conversation.id}"]`);
    expect(await row.locator('.tag').textContent()).toBe('by email click');
    await row.locator('.name').evaluate((el) => (el.textContent = 'Augusta Ada King, Countess of Lovelace and of Ockham'));
    const [name, tag, time] = await Promise.all([row.locator('.name').boundingBox(), row.locator('.tag').boundingBox(), row.locator('time').boundingBox()]);
    expect(name!.x + name!.width).toBeLessThanOrEqual(tag!.x);
    expect(tag!.x + tag!.width + 4).toBeLessThanOrEqual(time!.x);
    expect(await row.locator('.tag').evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    await inbox.screenshot({ path: join(tmpdir(), 'clicktrail-shots', 'inbox.png') });
    await inbox.close();
  });

  it('a fresh extension on a server with 150 team events shows none of them, then the next one', async () => {
    // 150 visitors' messages (news, each worth a notification), logged as the messenger logs them;
    // the widget's own route would need a visitor per 30 of them (its rate limit).
    const created = (await api<TeamEvent[]>('GET', '/api/notifications?after=0')).find((e) => e.type === 'conversation.created')!;
    const { id: _id, ...asNew } = created;
    for (let i = 0; i < 150; i++) await server.ctx.messenger.events.publish(asNew);
    const latest = await api<{ latestId: number }>('GET', '/api/notifications/latest');
    expect((await api<unknown[]>('GET', '/api/notifications?after=0')).length).toBe(100); // the oldest page: no baseline
    expect(latest.latestId).toBeGreaterThan(150);
    // (The first browser is told of those 150 too: it was listening.)

    const fresh = await launchWithExtension(join(dir, 'profile-fresh'), extensionDir);
    try {
      const freshWorker = fresh.serviceWorkers()[0] ?? (await fresh.waitForEvent('serviceworker'));
      const freshStorage = <T>(key: string) => freshWorker.evaluate(async (k) => (await chrome.storage.local.get(k))[k], key) as Promise<T>;
      const options = await fresh.newPage();
      await options.goto(`chrome-extension://${new URL(freshWorker.url()).host}/options/options.html`);
      await options.fill('input[name=url]', apiBase);
      await options.fill('input[name=token]', TOKEN);
      await options.click('button[type=submit]');
      await expect.poll(() => options.textContent('.result')).toBe('Saved.');
      await until('the fresh baseline', async () => (await freshStorage<number | null>('lastEventId')) === latest.latestId);

      // One new event: it is notified (the stream is live), and nothing from before it ever was.
      await server.ctx.messenger.events.publish(asNew);
      const shown = await until('the new event’s notification', async () => {
        const log = (await freshStorage<ShownNotification[]>('notificationsShown')) ?? [];
        return log.length > 0 && log;
      });
      await new Promise((r) => setTimeout(r, 1000)); // anything replayed would arrive with it
      const all = (await freshStorage<ShownNotification[]>('notificationsShown')) ?? shown;
      expect(all.map((n) => n.eventId)).toEqual([latest.latestId + 1]);
      await options.close();
    } finally {
      await fresh.close();
    }
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
