import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page, Worker } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/server.ts';
import { launchWithExtension } from '../support/browser.ts';
import { removeDir } from '../support/server.ts';
import { buildExtension, startShopServer, until } from './support.ts';

/**
 * A marketer installing the extension, in real Chromium against a real server. The test
 * build is granted 127.0.0.1 up front; the server's other name, links.shop.test, is not,
 * and an automated browser cannot answer Chrome's prompt for it: so that name stands for
 * a server whose permission was never given.
 */

declare const chrome: import('webextension-polyfill').Browser;

const TOKEN = 'e2e-first-setup-token-0123456789';

let dir: string;
let server: RunningServer;
let apiBase: string;
let publicUrl: string;
let context: BrowserContext;
let worker: Worker;
let extensionId: string;

const optionsUrl = () => `chrome-extension://${extensionId}/options/options.html`;
const storage = <T>(key: string) => worker.evaluate(async (k) => (await chrome.storage.local.get(k))[k], key) as Promise<T>;

async function popup(): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`chrome-extension://${extensionId}/popup/popup.html`);
  return page;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clicktrail-first-setup-'));
  ({ server, apiBase, publicUrl } = await startShopServer(dir, TOKEN));
  const extensionDir = join(dir, 'extension');
  buildExtension(extensionDir, ['http://127.0.0.1/*']);
  context = await launchWithExtension(join(dir, 'profile'), extensionDir, { keepInstallPage: true });
  worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  extensionId = new URL(worker.url()).host;
}, 120_000);

afterAll(async () => {
  await context?.close();
  await server?.stop();
  removeDir(dir);
});

describe('first setup', () => {
  it('opens the options page on install; until a server is set the popup links there and cannot overlay', async () => {
    const installed = await until('the options page to open on install', async () => context.pages().find((p) => p.url() === optionsUrl()));
    await installed.close();

    const page = await popup();
    const setup = page.locator('.setup');
    await expect.poll(() => setup.getAttribute('data-state')).toBe('unset');
    expect(await setup.locator('p').textContent()).toBe('Clicktrail is not connected to your server yet.');
    expect(await page.locator('button.overlay').isDisabled()).toBe(true);
    expect(await page.locator('button.overlay').getAttribute('title')).toBe('Set up the server first');
    // No "Set the server URL…" error from the list underneath.
    expect(await page.locator('.status.error').count()).toBe(0);

    const opened = context.waitForEvent('page', (p) => p.url() === optionsUrl());
    await setup.locator('a.setup-link', { hasText: 'Set up the server' }).click();
    await (await opened).close();
    await page.close();
  });

  it('says when Chrome has not given access to the server, instead of "Failed to fetch", and offers to ask again', async () => {
    const options = await context.newPage();
    await options.goto(optionsUrl());
    await options.fill('input[name=url]', publicUrl);
    await options.fill('input[name=token]', TOKEN);
    await options.click('button[type=submit]');
    // Chrome's prompt is up (nobody here answers it); the settings are kept meanwhile.
    await expect.poll(() => options.textContent('.result')).toBe('Waiting for Chrome to allow access to the server…');
    await expect.poll(() => storage('server')).toEqual({ url: publicUrl, token: TOKEN });

    // The prompt went unanswered: next time the page says what is missing.
    await options.reload();
    const notice = options.locator('.access');
    await expect.poll(() => notice.locator('strong').textContent()).toBe(`Chrome has not given Clicktrail access to ${publicUrl}`);
    await options.click('button.test');
    await expect.poll(() => options.textContent('.result')).toBe('Not tested: Chrome has not given Clicktrail access to the server yet.');
    expect(await options.textContent('body')).not.toMatch(/Failed to fetch/);

    // The popup too, with the overlay still off.
    const page = await popup();
    await expect.poll(() => page.locator('.setup').getAttribute('data-state')).toBe('no-access');
    expect(await page.locator('.setup p').textContent()).toBe(`Chrome has not let Clicktrail reach ${publicUrl}, so there are no numbers to show.`);
    expect(await page.locator('.setup a.setup-link').textContent()).toBe('Allow access in the options');
    expect(await page.locator('button.overlay').isDisabled()).toBe(true);
    expect(await page.locator('.status.error').count()).toBe(0);

    // Asking again raises Chrome's prompt (it needs the click, which this is).
    const ask = notice.locator('button.ask-again');
    expect(await ask.textContent()).toBe('Ask again');
    await ask.click();
    await expect.poll(() => ask.textContent()).toBe('Waiting for Chrome…');
    expect(await ask.isDisabled()).toBe(true);

    // A server address Chrome may reach: saved, the notice gone, the popup ready to overlay.
    await options.fill('input[name=url]', apiBase);
    await options.click('button[type=submit]');
    await expect.poll(() => options.textContent('.result')).toBe('Saved.');
    await expect.poll(() => notice.count()).toBe(0);
    await options.click('button.test');
    await expect.poll(() => options.textContent('.result')).toMatch(/^Connected\./);
    await expect.poll(() => page.locator('.setup').count()).toBe(0);
    expect(await page.locator('button.overlay').isDisabled()).toBe(false);
    await page.close();
    await options.close();
  });
});
