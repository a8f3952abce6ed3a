import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { BrowserContext, Page, Worker } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message, MessageCreated, MessageStats } from '../../api/types.ts';
import type { RunningServer } from '../../server/server.ts';
import { HUMAN_UA, launchWithExtension } from '../support/browser.ts';
import { removeDir, trackedUrls } from '../support/server.ts';
import { adminApi } from '../support/admin-api.ts';
import { buildExtension, startShopServer, until } from './support.ts';

/** Inside extension pages and the worker, where Chrome's promise-returning API is what the polyfill describes. */
declare const chrome: import('webextension-polyfill').Browser;

const TOKEN = 'compose-e2e-admin-token-0123';
const FROM = 'Bean & Leaf <team@shop.test>';

let dir: string;
let server: RunningServer;
let apiBase: string;
let publicUrl: string;
let context: BrowserContext;
let worker: Worker;
let extensionId: string;

const api = adminApi(() => apiBase, TOKEN);
const outbox = () => join(dir, 'data/outbox');
const storage = <T>(key: string) => worker.evaluate(async (k) => (await chrome.storage.local.get(k))[k], key) as Promise<T>;

/** The API's answer status alone, for the refusals (adminApi throws on them). */
const statusOf = async (method: string, path: string, body?: unknown) =>
  (
    await fetch(`${apiBase}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  ).status;

async function mailsInOutbox(): Promise<{ file: string; mail: ParsedMail }[]> {
  if (!existsSync(outbox())) return [];
  const files = readdirSync(outbox()).filter((f) => f.endsWith('.eml'));
  return Promise.all(files.map(async (file) => ({ file, mail: await simpleParser(readFileSync(join(outbox(), file))) })));
}

/** The page an extension button opens with tabs.create. */
async function opened(click: () => Promise<void>): Promise<Page> {
  const [page] = await Promise.all([context.waitForEvent('page'), click()]);
  await page.waitForLoadState();
  return page;
}

const csv = (rows: string[]) => ({ name: 'list.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\r\n')) });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clicktrail-compose-'));
  ({ server, apiBase, publicUrl } = await startShopServer(dir, TOKEN));
  // Clicks straight after sending look like a mail scanner's: these tests click as people do, later.
  await api('PATCH', '/api/settings', { scannerWindowSeconds: 0, earlyWindowSeconds: 0, defaultFrom: FROM });
  const extensionDir = join(dir, 'extension');
  buildExtension(extensionDir, ['http://127.0.0.1/*']);
  context = await launchWithExtension(join(dir, 'profile'), extensionDir);
  worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  extensionId = new URL(worker.url()).host;
  await worker.evaluate((s) => chrome.storage.local.set({ server: s }), { url: apiBase, token: TOKEN });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await server?.stop();
  removeDir(dir);
});

describe('composing and sending in the extension, against a real server', () => {
  let sentId: number;

  it('writes a draft, imports its recipients (a CSV with a bad line is refused whole), previews, tests, sends, then shows it read-only', async () => {
    const popup = await context.newPage();
    await popup.goto(`chrome-extension://${extensionId}/popup/popup.html`);
    const page = await opened(() => popup.click('button.new-message'));
    expect(page.url()).toBe(`chrome-extension://${extensionId}/compose/compose.html`);
    await expect.poll(() => page.getAttribute('input[name=from]', 'placeholder')).toBe(FROM);
    expect(await page.textContent('h1')).toBe('New message');

    // Write it; the HTML is pasted into its field.
    await page.getByLabel('Subject').fill('Autumn beans');
    await page.getByLabel('HTML', { exact: true }).focus();
    await page.keyboard.insertText(
      '<p>Hi {{first_name|there}}, the {{plan}} plan has new beans.</p>\n<p><a href="https://shop.test/beans">See the beans</a></p>\n<p><a href="mailto:help@shop.test">Write to us</a></p>',
    );
    await page.getByLabel('Reply-To').fill('not an address');
    await page.click('button.save');
    await expect.poll(() => page.textContent('.field.replyTo .problem')).toMatch(/^This must be an address such as/);
    expect(new URL(page.url()).search).toBe(''); // nothing saved
    await page.getByLabel('Reply-To').fill('help@shop.test');
    await page.click('button.save');
    await expect.poll(() => page.textContent('.top .state')).toBe('Draft · saved');
    const id = Number(new URL(page.url()).searchParams.get('id'));
    const draft = await api<Message>('GET', `/api/messages/${id}`);
    expect(draft).toMatchObject({ subject: 'Autumn beans', status: 'draft', replyTo: 'help@shop.test', from: null, kind: 'marketing' });
    expect(await page.locator('.warnings li').allTextContents()).toEqual([expect.stringMatching(/^\{\{plan\}\} \(html line 1\): filled from each recipient’s attribute/)]);

    // A CSV with one bad line: the line is named and nobody is imported.
    await page.setInputFiles('input[name=recipients-csv]', csv(['email,name,plan', 'ada@shop.test,Ada Lovelace,team', 'grace.shop.test,Grace Hopper,solo', 'alan@shop.test,,solo']));
    await expect.poll(() => page.locator('.line-problems li').allTextContents()).toEqual(['line 3: not an email address (“grace.shop.test”)']);
    expect(await page.textContent('.line-problems p')).toBe('Nothing imported from list.csv: fix this line and try again.');
    expect((await api<Message>('GET', `/api/messages/${id}`)).delivery.recipients).toBe(0);
    // Fixed, it goes in whole.
    await page.setInputFiles('input[name=recipients-csv]', csv(['email,name,plan', 'ada@shop.test,Ada Lovelace,team', 'grace@shop.test,Grace Hopper,solo', 'alan@shop.test,,solo']));
    await expect.poll(() => page.textContent('.recipients .result')).toBe('Added 3 recipients from list.csv (attributes: plan).');
    expect(await page.locator('.line-problems').count()).toBe(0);
    await expect.poll(() => page.textContent('.recipients h2 .count')).toBe('3 recipients');
    expect((await api<Message>('GET', `/api/messages/${id}`)).delivery.recipients).toBe(3);

    // The preview as Grace: her values, the server's tracked links for her, each link marked.
    await page.selectOption('select[name=preview-as]', 'grace@shop.test');
    const frame = page.frameLocator('section.preview iframe');
    await expect.poll(() => frame.locator('p').first().textContent()).toBe('Hi Grace, the solo plan has new beans.');
    const graceCopy = await (await fetch(`${apiBase}/api/messages/${id}/preview?email=grace@shop.test`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    const shown = await frame.locator('a[href]').evaluateAll((as) => as.map((a) => a.getAttribute('href')!));
    expect(shown.filter((h) => h.startsWith(`${publicUrl}/c/`))).toEqual(trackedUrls(graceCopy, publicUrl));
    expect(await frame.locator('a:has-text("See the beans")').getAttribute('data-clicktrail-mark')).toBe('tracked');
    expect(await frame.locator('a:has-text("See the beans")').getAttribute('href')).toMatch(new RegExp(`^${publicUrl}/c/`));
    expect(await frame.locator('a:has-text("Write to us")').getAttribute('data-clicktrail-mark')).toBe('untracked');
    expect(await page.locator('section.links tbody tr').evaluateAll((rows) => rows.map((r) => [r.children[0]!.textContent, r.children[2]!.textContent]))).toEqual([
      ['1', '✓ tracked'],
      ['2', 'not tracked: not a web link (mailto:, tel:, #anchor, relative…)'],
    ]);
    // A click in the preview goes nowhere (it would be Grace's): the page cancels it. (Listened
    // to from the extension page: the frame itself runs no script, a listener of its own included.)
    await page.evaluate(() => {
      const doc = document.querySelector<HTMLIFrameElement>('section.preview iframe')!.contentDocument!;
      doc.defaultView!.addEventListener('click', (e) => (doc.body.dataset.clickCancelled = String(e.defaultPrevented)));
    });
    await frame.locator('a:has-text("See the beans")').click();
    await expect.poll(() => frame.locator('body').getAttribute('data-click-cancelled')).toBe('true');

    // A test send to the marketer's own address, as Grace.
    await page.getByLabel('To your address').fill('me@shop.test');
    await page.click('button.send-test');
    await expect
      .poll(() => page.textContent('.test-send .result'))
      .toBe('Sent “[Test] Autumn beans” to me@shop.test, filled in as grace@shop.test. Its links work; its clicks are never counted.');
    expect(await storage('testAddress')).toBe('me@shop.test');
    const [test, ...others] = await until('the test mail in the outbox', async () => {
      const mails = await mailsInOutbox();
      return mails.length > 0 && mails;
    });
    expect(others).toEqual([]);
    expect(test!.mail.subject).toBe('[Test] Autumn beans');
    expect(test!.mail.to).toMatchObject({ value: [{ address: 'me@shop.test' }] });
    expect(test!.mail.html).toContain('Hi Grace, the solo plan has new beans.');
    const testLink = trackedUrls(String(test!.mail.html), publicUrl)[0]!;
    const followed = await fetch(testLink.replace(publicUrl, apiBase), { redirect: 'manual', headers: { 'user-agent': HUMAN_UA, accept: 'text/html' } });
    expect(followed.status).toBe(302);
    expect(followed.headers.get('location')).toBe('https://shop.test/beans');

    // The address is remembered for the next test.
    await page.reload();
    await expect.poll(() => page.getByLabel('To your address').inputValue()).toBe('me@shop.test');

    // Send, after saying yes.
    await page.click('section.send button.send');
    const dialog = page.locator('dialog.confirm[open]');
    await expect.poll(() => dialog.locator('.question').textContent()).toMatch(/^“Autumn beans” goes to 3 recipients, less any who have unsubscribed\./);
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    expect((await api<Message>('GET', `/api/messages/${id}`)).status).toBe('draft');
    await page.click('section.send button.send');
    await dialog.locator('button[type=submit]').click();
    await expect.poll(() => page.textContent('.send .outcome p')).toBe('Sent to 3 of 3 recipients.');

    // Now read-only: no saving, deleting or importing, the fields can't be changed, and its stats are a click away.
    await expect.poll(() => page.textContent('.top .state')).toBe('Sent');
    expect(await page.locator('button.save, button.delete, textarea[name=recipients], button.send-test').count()).toBe(0);
    expect(await page.getByLabel('Subject').evaluate((el) => (el as HTMLInputElement).readOnly)).toBe(true);
    expect(await page.getByLabel('HTML', { exact: true }).evaluate((el) => (el as HTMLTextAreaElement).readOnly)).toBe(true);
    expect(await page.locator('fieldset.kind').evaluate((el) => (el as HTMLFieldSetElement).disabled)).toBe(true);
    const sent = await api<Message>('GET', `/api/messages/${id}`);
    expect(sent).toMatchObject({ status: 'sent', delivery: { recipients: 3, pending: 0, sent: 3, failed: 0, skipped: 0 } });
    expect(await statusOf('PATCH', `/api/messages/${id}`, { subject: 'Changed' })).toBe(409);
    expect((await mailsInOutbox()).filter((m) => m.mail.subject === 'Autumn beans')).toHaveLength(3);
    sentId = id;

    // A real recipient's click counts; the test mail's, made before it, did not.
    const adaCopy = await (await fetch(`${apiBase}/api/messages/${id}/preview?email=ada@shop.test`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    await fetch(trackedUrls(adaCopy, publicUrl)[0]!.replace(publicUrl, apiBase), { redirect: 'manual', headers: { 'user-agent': HUMAN_UA, accept: 'text/html' } });
    const stats = await until('Ada’s click counted', async () => {
      const s = await api<MessageStats>('GET', `/api/messages/${id}/stats`);
      return s.clicks.total > 0 && s;
    });
    expect(stats.clicks).toMatchObject({ total: 1, unique: 1, bot: 0 });

    await page.click('.sent-banner a');
    await page.waitForURL(`chrome-extension://${extensionId}/message/message.html?id=${id}`);
    await expect.poll(() => page.textContent('h1')).toBe('Autumn beans');
    await Promise.all([page, popup].map((p) => p.close()));
  }, 90_000);

  it('lists drafts apart from sent messages in the popup, reopens one to edit it, and deletes it after asking', async () => {
    const draft = await api<MessageCreated>('POST', '/api/messages', { subject: 'Winter beans', html: '<p>Soon.</p>' });
    const popup = await context.newPage();
    await popup.goto(`chrome-extension://${extensionId}/popup/popup.html`);
    await expect.poll(() => popup.locator('.drafts li.draft .subject').allTextContents()).toEqual(['Winter beans']);
    expect(await popup.locator(`.drafts li[data-message-id="${sentId}"]`).count()).toBe(0);
    expect(await popup.locator(`ul.messages li.message[data-message-id="${sentId}"]`).count()).toBe(1);
    expect(await popup.locator(`ul.messages li[data-message-id="${draft.id}"]`).count()).toBe(0);
    expect(await popup.textContent('.drafts li.draft .date')).toMatch(/^0 recipients · /);

    const page = await opened(() => popup.click('.drafts li.draft .subject'));
    expect(page.url()).toBe(`chrome-extension://${extensionId}/compose/compose.html?id=${draft.id}`);
    await expect.poll(() => page.getByLabel('Subject').inputValue()).toBe('Winter beans');
    await page.getByLabel('Subject').fill('Winter beans are here');
    await page.getByLabel('Goal (optional)').fill('order');
    await page.getByLabel('within (days)').fill('5');
    await page.getByLabel('Transactional').check();
    expect(await page.textContent('.top .state')).toBe('Draft · unsaved changes');
    await page.keyboard.press('Control+s');
    await expect.poll(() => page.textContent('.top .state')).toBe('Draft · saved');
    expect(await api<Message>('GET', `/api/messages/${draft.id}`)).toMatchObject({
      subject: 'Winter beans are here',
      kind: 'transactional',
      goal: { event: 'order', withinDays: 5 },
    });

    // Cancelled, nothing happens; confirmed, the draft is gone.
    await page.click('button.delete');
    const dialog = page.locator('dialog.confirm[open]');
    await expect.poll(() => dialog.locator('h2').textContent()).toBe('Delete this draft?');
    expect(await dialog.locator('button.cancel').evaluate((b) => b === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter'); // on Cancel
    await expect.poll(() => dialog.count()).toBe(0);
    expect(await statusOf('GET', `/api/messages/${draft.id}`)).toBe(200);
    await page.click('button.delete');
    await dialog.locator('button.danger').click();
    await expect.poll(() => page.textContent('.notice')).toBe('Draft “Winter beans are here” deleted.');
    expect(await statusOf('GET', `/api/messages/${draft.id}`)).toBe(404);
    expect(new URL(page.url()).search).toBe('');
    expect(await page.textContent('h1')).toBe('New message');
    await Promise.all([page, popup].map((p) => p.close()));
  }, 60_000);

  it('shows a long send’s progress as it goes, then who was skipped and why', async () => {
    // Ada unsubscribes in one click (the List-Unsubscribe of her Autumn beans mail): the next send skips her.
    const adaMail = (await mailsInOutbox()).find((m) => m.mail.subject === 'Autumn beans' && m.mail.to && 'value' in m.mail.to && m.mail.to.value[0]?.address === 'ada@shop.test')!;
    const header = adaMail.mail.headerLines.find((h) => h.key === 'list-unsubscribe')!.line;
    const unsubscribe = /<(https?:\/\/[^>]+\/u\/[^>]+)>/.exec(header)![1]!;
    expect((await fetch(unsubscribe.replace(publicUrl, apiBase), { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).ok).toBe(true);

    const page = await context.newPage();
    await page.goto(`chrome-extension://${extensionId}/compose/compose.html`);
    await page.getByLabel('Subject').fill('Beans for everyone');
    await page.getByLabel('HTML', { exact: true }).fill('<p>Hi {{name|there}}! <a href="https://shop.test/beans">Beans</a></p>');
    await page.getByLabel(/^Paste them/).fill('Ada Lovelace <ada@shop.test>\nben@shop.test, Ben');
    await page.click('button.add');
    await expect.poll(() => page.textContent('.recipients .result')).toBe('Added 2 recipients from the pasted lines.');
    // A long list comes as a file (typing 2,000 lines into a textarea is slow in headless Chromium, whoever types them).
    const many = Array.from({ length: 1999 }, (_, i) => `reader${i}@shop.test,Reader ${i}`);
    await page.setInputFiles('input[name=recipients-csv]', csv(['email,name', ...many]));
    await expect.poll(() => page.textContent('.recipients .result'), { timeout: 30_000 }).toBe('Added 1,999 recipients from list.csv.');
    await expect.poll(() => page.textContent('.recipients h2 .count')).toBe('2,001 recipients');

    // Every progress line the page shows while sending.
    await page.evaluate(() => {
      const seen: string[] = ((window as unknown as { progressSeen: string[] }).progressSeen = []);
      new MutationObserver(() => {
        const text = document.querySelector('.send .progress b')?.textContent;
        if (text && seen.at(-1) !== text) seen.push(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.click('section.send button.send');
    await page.locator('dialog.confirm[open] button[type=submit]').click();
    await expect.poll(() => page.textContent('.send .outcome p'), { timeout: 60_000 }).toBe('Sent to 2,000 of 2,001 recipients. 1 skipped.');
    expect(await page.locator('.send .skips li').allTextContents()).toEqual(['ada@shop.test: unsubscribed (on the suppression list)']);

    const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
    const counts = seen.map((s) => /^([\d,]+) of 2,001 sent$/.exec(s)).map((m) => Number(m![1]!.replace(/,/g, '')));
    // It moved: at least one figure between none and all, and never backwards.
    expect(counts.some((n) => n > 0 && n < 2000), `progress seen: ${seen.join(' | ')}`).toBe(true);
    expect([...counts].sort((a, b) => a - b)).toEqual(counts);
    await page.close();
  }, 120_000);
});
