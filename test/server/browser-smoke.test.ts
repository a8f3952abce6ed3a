import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright';
import { launchBrowser } from '../support/browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => browser?.close());

describe('test browser', () => {
  it('resolves *.shop.test siblings to loopback and shares a parent-domain cookie between them', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/set') res.setHeader('set-cookie', 'probe=1; Domain=shop.test; Path=/; SameSite=Lax');
      res.end(`${req.headers.host} ${req.headers.cookie ?? ''}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const page = await browser.newPage();
    await page.goto(`http://links.shop.test:${port}/set`);
    await page.goto(`http://www.shop.test:${port}/read`);
    expect(await page.textContent('body')).toBe(`www.shop.test:${port} probe=1`);
    await page.close();
    server.close();
  });
});
