declare const chrome: import('webextension-polyfill').Browser;
/**
 * The extension's screenshots for docs/: `npx tsx test/extension/screenshots.ts`.
 * A real server with scripted clicks, the built extension in real Chromium, templates
 * from test/fixtures/emails: what a marketer would see.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { simpleParser } from 'mailparser';
import { join } from 'node:path';
import type { MessageCreated, MessengerBootResult, WidgetConversation } from '../../api/types.ts';
import type { BrowserContext } from 'playwright';
import { HUMAN_UA, launchWithExtension } from '../support/browser.ts';
import { FIXTURES, removeDir, trackedUrls } from '../support/server.ts';
import { buildExtension, gmailWrap, pageServer, startShopServer, webmailPage } from './support.ts';
import { adminApi } from '../support/admin-api.ts';

const DOCS = join(import.meta.dirname, '../../docs');
const TOKEN = 'screenshot-admin-token-0123';
const SITE = 'http://www.shop.test';
const PEOPLE = [
  ['Ada Lovelace', 'ada@shop.test'],
  ['Grace Hopper', 'grace@shop.test'],
  ['Alan Turing', 'alan@shop.test'],
  ['Katherine Johnson', 'katherine@shop.test'],
  ['Edsger Dijkstra', 'edsger@shop.test'],
  [null, 'margaret@shop.test'],
  ['Linus Pauling', 'linus@shop.test'],
  ['Hedy Lamarr', 'hedy@shop.test'],
] as const;
// Every merge tag of the three templates below.
const ATTRIBUTES = {
  action_url: 'https://app.shop.test/start',
  login_url: 'https://app.shop.test/login',
  live_chat_url: 'https://shop.test/chat',
  help_url: 'https://help.shop.test/',
  support_email: 'help@shop.test',
  invoice_id: 'INV-2041',
  date: '30 April',
  due_date: '14 May',
  total: '£30.50',
};

/** A dark mail (its colours on a table, as real ones are written: a webmail client drops <body>'s). */
const DARK_MAIL = `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#111418">
<tr><td align="center" style="padding:32px 16px"><table role="presentation" width="560" style="width:560px;font:16px/1.6 Arial,sans-serif;color:#d7dbe0;text-align:left">
<tr><td><h1 style="margin:0 0 16px;color:#ffffff;font-size:26px">Night roast, {{first_name}}</h1>
<p style="margin:0 0 16px">We roast the night batch after the shop closes, slowly, so the beans keep their sweetness. This week: a Sumatra with cocoa and cedar.</p>
<p style="margin:0 0 24px"><a href="https://shop.test/night" style="display:inline-block;background:#2bb673;color:#ffffff;padding:12px 22px;border-radius:6px;text-decoration:none;font-weight:bold">Order the night roast</a></p>
<p style="margin:0 0 16px">New to dark roasts? Read <a href="https://shop.test/guide" style="color:#7cc4ff">the brewing guide</a> first, or <a href="https://shop.test/chat" style="color:#7cc4ff">ask a roaster</a>.</p>
<p style="margin:24px 0 0;font-size:12px;color:#9aa3ad">Bean &amp; Leaf · 14 Kiln Lane · <a href="https://shop.test/preferences" style="color:#c9d1d9">Email preferences</a></p>
</td></tr></table></td></tr></table>`;

const dir = mkdtempSync(join(tmpdir(), 'clicktrail-shots-'));
const { server, apiBase, publicUrl } = await startShopServer(dir, TOKEN);
const pages: Record<string, string> = {};
const mail = await pageServer(pages);

const api = adminApi(() => apiBase, TOKEN);
const preview = async (id: number, email: string) =>
  (await fetch(`${apiBase}/api/messages/${id}/preview?email=${email}`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
const click = (url: string, ua = HUMAN_UA, method = 'GET') =>
  fetch(url.replace(publicUrl, apiBase), { method, redirect: 'manual', headers: { 'user-agent': ua } });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends a message to everyone and plays clicks: per person, the link positions they click (in order). */
async function campaign(subject: string, html: string, clicks: number[][], opts: { goal?: { event: string; withinDays: number }; bots?: number[] } = {}) {
  const created = await api<MessageCreated>('POST', '/api/messages', { subject, html, ...(opts.goal ? { goal: opts.goal } : {}) });
  await api('POST', `/api/messages/${created.id}/recipients`, {
    recipients: PEOPLE.map(([name, email]) => ({ email, ...(name ? { name } : {}), attributes: ATTRIBUTES })),
  });
  await api('POST', `/api/messages/${created.id}/send`);
  const htmls = await Promise.all(PEOPLE.map(([, email]) => preview(created.id, email)));
  const cookies: string[] = [];
  for (const [i, positions] of clicks.entries()) {
    const urls = trackedUrls(htmls[i]!, publicUrl);
    for (const p of positions) {
      const res = await click(urls[p]!);
      cookies[i] ??= /clicktrail_id=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? '';
      await pause(30);
    }
    // Opens, for the people who read it.
    const pixel = /\/o\/[A-Za-z0-9_-]+/.exec(htmls[i]!)?.[0];
    if (pixel) await fetch(`${apiBase}${pixel}`, { headers: { 'user-agent': HUMAN_UA } });
  }
  for (const [i, p] of (opts.bots ?? []).entries()) await click(trackedUrls(htmls[i]!, publicUrl)[p]!, HUMAN_UA, 'HEAD');
  return { created, htmls, cookies };
}

// Closed before the server stops, even on a failure: the extension holds the team's stream open.
let context: BrowserContext | undefined;
try {
  await api('PATCH', '/api/settings', {
    scannerWindowSeconds: 0,
    earlyWindowSeconds: 0,
    identificationDelaySeconds: 2,
    allowedOrigins: [SITE],
    defaultFrom: 'Bean & Leaf <team@shop.test>',
    defaultReplyTo: 'help@shop.test',
  });
  await campaign(
    'Your invoice for April',
    readFileSync(join(FIXTURES, 'invoice.html'), 'utf8'),
    [[0], [], [0], [], [], [0]],
  );
  await campaign(
    'Spring beans are in, {{first_name}}',
    readFileSync(join(FIXTURES, 'newsletter-inlined.html'), 'utf8'),
    [[0], [0, 1], [1], [], [0], [], [1]],
    { goal: { event: 'order', withinDays: 7 } },
  );
  const welcome = await campaign(
    'Welcome to Bean & Leaf',
    readFileSync(join(FIXTURES, 'welcome.html'), 'utf8'),
    [[1, 1], [1, 3], [1], [4], [1, 2], [3], [1], []],
    { bots: [1, 1, 3, 0, 1] },
  );
  const night = await campaign('Night roast, {{first_name}}', DARK_MAIL, [[0, 0], [1], [0], [0, 2], [], [0]], { bots: [0, 0, 2] });
  await new Promise((r) => setTimeout(r, 300));

  // A lead who clicked, then wrote in the widget; the team answered.
  const boot = async (identity: string, url: string) =>
    (await (
      await fetch(`${apiBase}/messenger/boot`, {
        method: 'POST',
        headers: { origin: SITE, 'content-type': 'application/json' },
        body: JSON.stringify({ url, identity }),
      })
    ).json()) as MessengerBootResult;
  const write = async (session: MessengerBootResult['session'], body: string, clientId: string, conversation?: number) =>
    (await (
      await fetch(`${apiBase}/messenger/conversations${conversation ? `/${conversation}/messages` : ''}`, {
        method: 'POST',
        headers: { origin: SITE, 'content-type': 'application/json', authorization: `Bearer ${session!.id}.${session!.secret}` },
        body: JSON.stringify({ body, clientId }),
      })
    ).json()) as WidgetConversation;
  const grace = await boot(welcome.cookies[1]!, `${SITE}/pricing`);
  const graceConv = await write(grace.session, 'Hi! Does the team plan include the espresso grinder?', 'shot-grace-00001');
  await api('POST', `/api/conversations/${graceConv.id}/replies`, { body: 'Hi Grace! It does: every team plan ships with one.' });
  await write(grace.session, 'Great. Can we start the trial on Monday?', 'shot-grace-00002', graceConv.id);
  const ada = await boot(welcome.cookies[0]!, `${SITE}/beans/ethiopia`);
  await write(ada.session, 'Is the Ethiopian roast available decaf?', 'shot-ada-000001');

  const extensionDir = join(dir, 'extension');
  buildExtension(extensionDir, ['http://127.0.0.1/*', 'http://mail.shop.test/*']);
  context = await launchWithExtension(join(dir, 'profile'), extensionDir);
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  const id = new URL(worker.url()).host;
  await worker.evaluate((s) => chrome.storage.local.set({ server: s }), { url: apiBase, token: TOKEN });
  mkdirSync(DOCS, { recursive: true });

  // The overlay on the welcome mail as it sits in a webmail sent folder, two links Gmail-wrapped.
  const urls = trackedUrls(welcome.htmls[0]!, publicUrl);
  pages['/sent'] = webmailPage(
    'Welcome to Bean & Leaf',
    welcome.htmls[0]!
      .replace(`href="${urls[1]}"`, `href="${gmailWrap(urls[1]!)}"`)
      .replace(`href="${urls[3]}"`, `href="${gmailWrap(urls[3]!)}"`),
  );
  const mailPage = await context.newPage();
  await mailPage.setViewportSize({ width: 1280, height: 1000 });
  await mailPage.goto(`http://mail.shop.test:${mail.port}/sent`);
  const ext = await context.newPage();
  await ext.goto(`chrome-extension://${id}/options/options.html`);
  await ext.evaluate(async () => {
    const [tab] = await chrome.tabs.query({ url: 'http://mail.shop.test/*' });
    await chrome.runtime.sendMessage({ type: 'overlay.inject', tabId: tab!.id });
  });
  await mailPage.waitForSelector('[data-clicktrail-overlay]', { state: 'attached' });
  await mailPage.hover('a.button, a[class*=button]');
  await pause(300);
  await mailPage.screenshot({ path: join(DOCS, 'overlay.png') });

  // A dark mail, its badges switched to share of clicks.
  const nightUrls = trackedUrls(night.htmls[0]!, publicUrl);
  pages['/sent-night'] = webmailPage('Night roast, Ada', night.htmls[0]!.replace(`href="${nightUrls[1]}"`, `href="${gmailWrap(nightUrls[1]!)}"`));
  const darkPage = await context.newPage();
  await darkPage.setViewportSize({ width: 1280, height: 720 });
  await darkPage.goto(`http://mail.shop.test:${mail.port}/sent-night`);
  await ext.evaluate(async () => {
    const [tab] = await chrome.tabs.query({ url: 'http://mail.shop.test/sent-night' });
    await chrome.runtime.sendMessage({ type: 'overlay.inject', tabId: tab!.id });
  });
  await darkPage.locator('[data-clicktrail-overlay] .badge-switch [data-shows=share]').click();
  await pause(300);
  await darkPage.screenshot({ path: join(DOCS, 'overlay-dark.png') });
  // Back to clicks for the rest (the choice is remembered everywhere); the legend folded to its tab, then unfolded.
  await darkPage.locator('[data-clicktrail-overlay] .badge-switch [data-shows=clicks]').click();
  await darkPage.locator('[data-clicktrail-overlay] .legend button.fold').click();
  await pause(200);
  await darkPage.screenshot({ path: join(DOCS, 'legend-folded.png'), clip: { x: 440, y: 320, width: 840, height: 400 } });
  await darkPage.locator('[data-clicktrail-overlay] .legend button.unfold').click();
  await pause(200);
  // A draft, listed apart from the sent messages.
  await api('POST', '/api/messages', { subject: 'Winter blends (draft)', html: '<p>Coming soon.</p>' });

  const popup = await context.newPage();
  await popup.setViewportSize({ width: 440, height: 330 });
  await popup.goto(`chrome-extension://${id}/popup/popup.html`);
  await popup.waitForSelector('svg.sparkline');
  await pause(500);
  await popup.screenshot({ path: join(DOCS, 'popup.png') });

  const inbox = await context.newPage();
  await inbox.setViewportSize({ width: 1100, height: 600 });
  await inbox.goto(`chrome-extension://${id}/inbox/inbox.html#conversation=${graceConv.id}`);
  await inbox.waitForSelector('.bubble.team');
  await inbox.fill('textarea[name=reply]', 'Monday works. I have set your trial to start then.');
  await inbox.screenshot({ path: join(DOCS, 'inbox.png') });

  const view = await context.newPage();
  await view.setViewportSize({ width: 1280, height: 900 });
  await view.goto(`chrome-extension://${id}/message/message.html?id=${welcome.created.id}`);
  await view.waitForSelector('section.people');
  await pause(800);
  // The overlay inside the sandboxed frame answers hovers too.
  await view.frameLocator('iframe').locator('a:has-text("Choose your first roast")').hover();
  await view.frameLocator('iframe').locator('[data-clicktrail-overlay] .card').waitFor();
  await view.screenshot({ path: join(DOCS, 'message-view.png') });

  // The composer: empty, a CSV with a bad line, then the welcome mail previewed as a recipient with its links marked.
  const compose = await context.newPage();
  await compose.setViewportSize({ width: 1280, height: 1000 });
  await compose.goto(`chrome-extension://${id}/compose/compose.html`);
  await compose.waitForSelector('input[name=from][placeholder*="team@shop.test"]');
  await compose.screenshot({ path: join(DOCS, 'compose-empty.png') });

  // As a person leaves the page between steps: nothing focused, the HTML shown from its top.
  const settle = (page: typeof compose) =>
    page.evaluate(() => {
      (document.activeElement as HTMLElement | null)?.blur();
      for (const t of document.querySelectorAll('textarea')) t.scrollTop = 0;
    });
  await compose.getByLabel('Subject').fill('Welcome to Bean & Leaf, {{first_name|friend}}');
  await compose.getByLabel('HTML', { exact: true }).fill(readFileSync(join(FIXTURES, 'welcome.html'), 'utf8'));
  await compose.click('button.save');
  await compose.waitForSelector('.top .state.saved');
  const header = ['email', 'name', ...Object.keys(ATTRIBUTES)].join(',');
  const row = (name: string | null, email: string) => [email, name ?? '', ...Object.values(ATTRIBUTES)].map((v) => (v.includes(',') ? `"${v}"` : v)).join(',');
  const list = PEOPLE.map(([name, email]) => row(name, email));
  await compose.setInputFiles('input[name=recipients-csv]', {
    name: 'new-customers.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from([header, ...list.slice(0, 3), row('Barbara Liskov', 'barbara@shop'), ...list.slice(3)].join('\n')),
  });
  await compose.waitForSelector('.line-problems');
  await settle(compose);
  await compose.setViewportSize({ width: 1280, height: 560 });
  await compose.evaluate(() => scrollTo(0, document.querySelector('section.recipients')!.getBoundingClientRect().top + scrollY - 150));
  await compose.screenshot({ path: join(DOCS, 'compose-recipient-error.png') });
  await compose.setViewportSize({ width: 1280, height: 1000 });

  await compose.setInputFiles('input[name=recipients-csv]', { name: 'new-customers.csv', mimeType: 'text/csv', buffer: Buffer.from([header, ...list].join('\n')) });
  await compose.waitForSelector('section.preview iframe');
  await compose.selectOption('select[name=preview-as]', 'grace@shop.test');
  await compose.frameLocator('section.preview iframe').locator('a[data-clicktrail-mark]').first().waitFor();
  await compose.getByLabel('To your address').fill('me@shop.test');
  await settle(compose);
  await compose.evaluate(() => scrollTo(0, 0));
  await pause(300);
  await compose.screenshot({ path: join(DOCS, 'compose.png'), fullPage: true });

  // Sending to a long list: progress, then the result (one address unsubscribed through an earlier mail).
  const outbox = join(dir, 'data/outbox');
  const mails = await Promise.all(readdirSync(outbox).map((f) => simpleParser(readFileSync(join(outbox, f)))));
  const hedys = mails.find((m) => m.to && 'value' in m.to && m.to.value[0]?.address === 'hedy@shop.test')!;
  const unsubscribe = /<(https?:[^>]+)>/.exec(hedys.headerLines.find((h) => h.key === 'list-unsubscribe')!.line)![1]!;
  await fetch(unsubscribe.replace(publicUrl, apiBase), { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const big = await context.newPage();
  await big.setViewportSize({ width: 1280, height: 760 });
  await big.goto(`chrome-extension://${id}/compose/compose.html`);
  await big.getByLabel('Subject').fill('Spring beans are in');
  await big.getByLabel('HTML', { exact: true }).fill(readFileSync(join(FIXTURES, 'newsletter-inlined.html'), 'utf8'));
  await big.getByLabel('Goal (optional)').fill('order');
  const readers = Array.from({ length: 4000 }, (_, i) => `reader${i}@shop.test,Reader ${i}`);
  await big.setInputFiles('input[name=recipients-csv]', {
    name: 'everyone.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(['email,name', ...PEOPLE.map(([name, email]) => `${email},${name ?? ''}`), ...readers].join('\n')),
  });
  await big.waitForSelector('section.preview iframe');
  await big.click('section.send button.send');
  await big.waitForSelector('dialog.confirm[open]');
  await settle(big);
  await pause(200);
  await big.screenshot({ path: join(DOCS, 'compose-confirm.png') });
  await big.locator('dialog.confirm[open] button[type=submit]').click();
  await big.waitForFunction(() => /^[1-9][\d,]* of /.test(document.querySelector('.send .progress b')?.textContent ?? ''));
  await big.locator('.columns > .check').screenshot({ path: join(DOCS, 'compose-sending.png') });
  await big.waitForSelector('.send .outcome', { timeout: 120_000 });
  await settle(big);
  await big.evaluate(() => scrollTo(0, 0));
  await pause(300);
  await big.screenshot({ path: join(DOCS, 'compose-sent.png'), fullPage: true });
  // The people table: who clicked, most clicks first, with why hits were set apart.
  await view.mouse.move(10, 10);
  const people = view.locator('section.people');
  await people.locator('.filters [data-filter="clicked"]').click();
  await people.locator('th[data-column="clicks"] button').click();
  await people.scrollIntoViewIfNeeded();
  await people.screenshot({ path: join(DOCS, 'people.png') });
  await context.close();

  // First setup, in a browser the extension was just installed in.
  const fresh = await launchWithExtension(join(dir, 'profile-fresh'), extensionDir);
  const freshWorker = fresh.serviceWorkers()[0] ?? (await fresh.waitForEvent('serviceworker'));
  const freshId = new URL(freshWorker.url()).host;
  const setup = await fresh.newPage();
  await setup.setViewportSize({ width: 440, height: 160 });
  await setup.goto(`chrome-extension://${freshId}/popup/popup.html`);
  await setup.waitForSelector('.setup');
  await setup.screenshot({ path: join(DOCS, 'popup-setup.png') });
  // A server whose origin Chrome was not allowed to reach (this build is granted 127.0.0.1, not links.shop.test).
  await freshWorker.evaluate((s) => chrome.storage.local.set({ server: s }), { url: publicUrl, token: TOKEN });
  const access = await fresh.newPage();
  await access.setViewportSize({ width: 760, height: 560 });
  await access.goto(`chrome-extension://${freshId}/options/options.html`);
  await access.waitForSelector('.access');
  await access.screenshot({ path: join(DOCS, 'options-access.png') });
  await fresh.close();
} finally {
  await context?.close();
  mail.server.close();
  await server.stop();
  removeDir(dir);
}
