/**
 * The screenshot of an in-app card on /demo, for the docs: `npx tsx test/e2e/in-app-screenshot.ts [outDir]`
 * (docs/widget-in-app.png). A real server, a published in-app message, a fresh visitor.
 */
import { join } from 'node:path';
import { loadConfig } from '../../server/config/config.ts';
import { startServer } from '../../server/server.ts';
import { HUMAN_UA, launchBrowser } from '../support/browser.ts';
import { removeDir, tempDir } from '../support/server.ts';
import { ensureWidgetBuilt } from '../widget/built-widget.ts';

const outDir = process.argv[2] ?? 'test-results';
await ensureWidgetBuilt();
const dir = tempDir('clicktrail-shot-');
const running = await startServer(loadConfig({ PORT: '0', CLICKTRAIL_DB: join(dir, 'db'), CLICKTRAIL_ADMIN_TOKEN: 'shot', CLICKTRAIL_SECRET: 'shot' }));
const base = `http://localhost:${running.port}`;
// PUBLIC_URL must name the port the server got.
running.ctx.config.publicUrl = base;
const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: 'Bearer shot', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
};

await api('PATCH', '/api/settings', { deepLinkSchemes: ['northwind'] });
const { id } = await api('POST', '/api/messages', {
  channel: 'in_app',
  subject: 'Guji is back',
  html: `<h3>The Ethiopia Guji is back ☕</h3>
<p>Hi {{first_name | there}}, this Monday's roast sold out in a day last time: peach, jasmine and bergamot.</p>
<p><a href="${base}/demo#beans">Reserve a bag</a> · <a href="northwind://beans/guji">Open in the app</a></p>`,
  audience: { type: 'everyone' },
});
await api('POST', `/api/messages/${id}/send`);

const browser = await launchBrowser();
const page = await (await browser.newContext({ userAgent: HUMAN_UA, viewport: { width: 1280, height: 800 }, deviceScaleFactor: 2 })).newPage();
await page.goto(`${base}/demo`);
await page.getByRole('region', { name: 'Message from the team' }).waitFor();
await page.screenshot({ path: join(outDir, 'widget-in-app.png') });
await browser.close();
await running.stop();
removeDir(dir);
console.log(`screenshot in ${outDir}/widget-in-app.png`);
