import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type LaunchOptions, type Page } from 'playwright';

/**
 * Real Chromium for the widget and extension tests: Debian's /usr/bin/chromium unless
 * CHROMIUM_PATH names another (Playwright's own download is not used).
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
  // Sibling hostnames on loopback, so a cookie for shop.test set by links.shop.test is read on www.shop.test.
  '--host-resolver-rules=MAP *.shop.test 127.0.0.1',
];

function options(extra: string[] = []): LaunchOptions {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: install Debian's chromium package or set CHROMIUM_PATH`);
  }
  return { executablePath: CHROMIUM_PATH, headless: true, args: [...FLAGS, ...extra] };
}

/**
 * Headless Chromium says "HeadlessChrome" in its user agent, which isbot (rightly) takes for a
 * bot: a click from it is recorded as a suspected bot and identifies nobody. Tests that play
 * a person clicking a tracked link use this desktop Chrome user agent instead:
 * `browser.newContext({ userAgent: HUMAN_UA })`, or `launchWithExtension` (which sets it).
 */
export const HUMAN_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch(options());
}

/**
 * A persistent profile with an unpacked MV3 extension loaded (works headless). On install the
 * extension opens its options page (first setup): that tab is waited for and closed, unless
 * the test is about it (`keepInstallPage`), so it never takes over a page the test opens.
 */
export async function launchWithExtension(userDataDir: string, extensionDir: string, { keepInstallPage = false } = {}): Promise<BrowserContext> {
  const context = await chromium.launchPersistentContext(
    userDataDir,
    { ...options([`--disable-extensions-except=${extensionDir}`, `--load-extension=${extensionDir}`]), userAgent: HUMAN_UA },
  );
  if (keepInstallPage) return context;
  const isOptions = (page: Page) => /^chrome-extension:\/\/[a-z]+\/options\/options\.html/.test(page.url());
  // Polled: the tab may open before a 'page' listener could be added, or well after the launch.
  for (const until = Date.now() + 30_000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
    const installPage = context.pages().find(isOptions);
    if (!installPage) continue;
    await installPage.close();
    return context;
  }
  await context.close();
  throw new Error('the extension did not open its options page on install');
}
