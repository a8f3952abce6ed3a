import { execFileSync } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright';
import { loadConfig } from '../../server/config/config.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import { freePort } from '../support/server.ts';

const ROOT = join(import.meta.dirname, '../..');

/** Inside extension pages, where Chrome's promise-returning API is what the polyfill describes. */
declare const chrome: import('webextension-polyfill').Browser;

/**
 * Builds the extension for a test, into its own folder. `grantHosts` become required host
 * permissions: an automated browser cannot answer the prompt the options page raises, and
 * activeTab needs a real click on the toolbar button.
 */
export function buildExtension(outDir: string, grantHosts: string[]): void {
  execFileSync('npx', ['vite', 'build', '--mode', 'extension', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: ROOT,
    env: { ...process.env, CLICKTRAIL_EXTENSION_TEST_HOSTS: grantHosts.join(',') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/**
 * The real server in `dir`, its tracked links on links.shop.test (a sibling of the mail and
 * shop hosts, for the shared cookie) and its API on loopback.
 */
export async function startShopServer(dir: string, adminToken: string): Promise<{ server: RunningServer; apiBase: string; publicUrl: string }> {
  const port = await freePort();
  const publicUrl = `http://links.shop.test:${port}`;
  const server = await startServer(
    loadConfig({
      PORT: String(port),
      CLICKTRAIL_DB: join(dir, 'data/clicktrail.db'),
      CLICKTRAIL_PUBLIC_URL: publicUrl,
      CLICKTRAIL_COOKIE_DOMAIN: 'shop.test',
      CLICKTRAIL_ADMIN_TOKEN: adminToken,
    }),
  );
  return { server, apiBase: `http://127.0.0.1:${port}`, publicUrl };
}

/** Serves fixed pages by path (a stand-in for a webmail client). */
export async function pageServer(pages: Record<string, string>): Promise<{ server: Server; port: number }> {
  const server = createHttpServer((req, res) => {
    const page = pages[new URL(req.url ?? '/', 'http://x').pathname];
    res.writeHead(page === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page ?? 'not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

export const gmailWrap = (url: string) =>
  `https://www.google.com/url?q=${encodeURIComponent(url)}&sa=D&source=gmail&ust=1700000000000000&usg=AOvVaw3test`;

/**
 * The sent mail as a webmail client shows it: the client's own chrome around the
 * message body, the body inside a scrolling pane, chosen links rewritten through the
 * Gmail redirector.
 */
export function webmailPage(subject: string, bodyHtml: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${subject} - Webmail</title>
<style>
  body { margin: 0; font: 14px Arial, sans-serif; background: #f6f8fc; color: #202124; }
  .app { display: grid; grid-template-columns: 220px 1fr; height: 100vh; }
  nav { padding: 16px; }
  nav a { display: block; padding: 6px 12px; border-radius: 16px; color: #202124; text-decoration: none; }
  nav a.on { background: #d3e3fd; font-weight: bold; }
  main { background: #fff; margin: 8px 16px 8px 0; border-radius: 16px; overflow: auto; padding: 20px 28px; }
  h1 { font-size: 22px; font-weight: 400; margin: 0 0 16px; }
  .from { color: #5f6368; margin-bottom: 16px; }
</style></head><body><div class="app">
<nav><a href="https://mail.example/inbox">Inbox</a><a class="on" href="https://mail.example/sent">Sent</a><a href="https://mail.example/drafts">Drafts</a></nav>
<main id="pane"><h1>${subject}</h1><div class="from">Shop Team &lt;team@shop.test&gt; to Ada Lovelace</div>
<div class="message-body">${bodyHtml}</div></main></div></body></html>`;
}

/** Polls `probe` until it gives something truthy; no fixed sleeps, a generous ceiling. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Overlays the tab at `url` as the popup's button does (the test build's granted host
 * stands in for activeTab), from an extension page; what the service worker answers.
 */
export async function overlayTab(context: BrowserContext, extensionId: string, url: string): Promise<unknown> {
  const page = await context.newPage();
  await page.goto(`chrome-extension://${extensionId}/options/options.html`);
  const reply = await page.evaluate(async (pattern) => {
    const [tab] = await chrome.tabs.query({ url: pattern });
    if (!tab) throw new Error(`no tab at ${pattern}`);
    return chrome.runtime.sendMessage({ type: 'overlay.inject', tabId: tab.id });
  }, url);
  await page.close();
  return reply;
}
