/**
 * Screenshots of the open widget on /demo, for the README: `npx tsx test/e2e/widget-screenshot.ts [outDir]`.
 * Plays the walk for real: a message is sent, its tracked link clicked, the lead greeted,
 * a question asked and answered by the team.
 */
import { join } from 'node:path';
import { loadConfig } from '../../server/config/config.ts';
import { startServer } from '../../server/server.ts';
import { HUMAN_UA, launchBrowser } from '../support/browser.ts';
import { removeDir, tempDir, trackedUrls } from '../support/server.ts';
import { ensureWidgetBuilt } from '../widget/built-widget.ts';

const outDir = process.argv[2] ?? 'test-results';
await ensureWidgetBuilt();
const dir = tempDir('clicktrail-shot-');
const running = await startServer(
  loadConfig({ PORT: '0', CLICKTRAIL_DB: join(dir, 'db'), CLICKTRAIL_ADMIN_TOKEN: 'shot', CLICKTRAIL_SECRET: 'shot' }),
);
const base = `http://localhost:${running.port}`;
// PUBLIC_URL must name the port the server got.
running.ctx.config.publicUrl = base;
const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: 'Bearer shot', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.headers.get('content-type')?.includes('json') ? res.json() : res.text();
};

await api('PATCH', '/api/settings', { scannerWindowSeconds: 0, earlyWindowSeconds: 0, identificationDelaySeconds: 2 });
const { id } = await api('POST', '/api/messages', { subject: 'Autumn beans', html: `<a href="${base}/demo">See the beans</a>` });
await api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'michelle@example.com', name: 'Michelle Obama' }] });
await api('POST', `/api/messages/${id}/send`);
const [link] = trackedUrls(await api('GET', `/api/messages/${id}/preview?email=michelle@example.com`), base);

const browser = await launchBrowser();
// One browser throughout: a new one would be a new visitor, who rightly sees none of this conversation.
const context = await browser.newContext({ userAgent: HUMAN_UA, viewport: { width: 375, height: 740 }, deviceScaleFactor: 2 });
const page = await context.newPage();
await page.goto(link!);
const open = async () => {
  await page.getByRole('button', { name: 'Open chat' }).click();
  await page.getByRole('heading', { name: 'Hi Michelle 👋' }).waitFor();
};
await open();
const textbox = page.getByRole('textbox', { name: 'Your message' });
await textbox.fill('Hi! Do you ship the Ethiopia Guji to Lyon?');
await textbox.press('Enter');
await page.getByText('Do you ship the Ethiopia Guji').waitFor();
const [conversation] = await api('GET', '/api/conversations');
await api('POST', `/api/conversations/${conversation.id}/replies`, { body: 'We do! Orders before noon leave the same day and reach Lyon in two days.' });
await page.getByText('reach Lyon in two days').waitFor();
await textbox.fill('Perfect, thank you!');
await page.screenshot({ path: join(outDir, 'widget-375.png') });

await page.setViewportSize({ width: 1280, height: 800 });
await page.reload();
await open();
await page.getByText('reach Lyon in two days').waitFor();
await textbox.fill('Perfect, thank you!');
await page.screenshot({ path: join(outDir, 'widget-desktop.png') });
await browser.close();
await running.stop();
removeDir(dir);
console.log(`screenshots in ${outDir}/`);
