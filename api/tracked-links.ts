/**
 * Recognising a Clicktrail tracked link (`<PUBLIC_URL>/c/<token>`) wherever a mail client
 * shows it. Gmail and Outlook on the web rewrite every link through their own redirector,
 * with the real URL in a query parameter, so the tracked link has to be dug out first.
 * Shared by the server (which verifies) and the extension (which only shortlists).
 */

interface Wrapper {
  host: RegExp;
  path?: string;
  param: string;
}

const WRAPPERS: Wrapper[] = [
  // Gmail: https://www.google.com/url?q=<url>&sa=D&source=...
  { host: /^(www\.)?google\.(com|co\.[a-z]{2}|com\.[a-z]{2}|[a-z]{2})$/, path: '/url', param: 'q' },
  // Outlook / Microsoft Defender Safe Links: https://eur01.safelinks.protection.outlook.com/?url=<url>&data=...
  { host: /(^|\.)safelinks\.protection\.outlook\.com$/, param: 'url' },
];

/** A mail client wraps at most once, but a forwarded mail may be wrapped again; a few layers is plenty. */
const MAX_LAYERS = 3;

function parse(href: string): URL | null {
  try {
    return new URL(href);
  } catch {
    return null;
  }
}

/** The URL a mail client's redirector points at, or the URL itself when it is not wrapped. */
export function unwrapMailClientUrl(href: string): string {
  let current = href;
  for (let i = 0; i < MAX_LAYERS; i++) {
    const url = parse(current);
    if (!url) return current;
    const wrapper = WRAPPERS.find((w) => w.host.test(url.hostname) && (!w.path || url.pathname === w.path));
    const inner = wrapper && url.searchParams.get(wrapper.param);
    if (!inner || !parse(inner)) return current;
    current = inner;
  }
  return current;
}

const TRACKED_PATH = /\/c\/([A-Za-z0-9_-]{16,64})$/;

/**
 * The unwrapped URL and its token when the href has the shape of a tracked link (any
 * origin: only the server knows its public URL and can check the signature).
 */
export function trackedLinkShape(href: string): { url: string; token: string } | null {
  const url = parse(unwrapMailClientUrl(href));
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) return null;
  const match = TRACKED_PATH.exec(url.pathname);
  return match ? { url: url.href, token: match[1]! } : null;
}

/** The token of a tracked link of the server at `publicUrl`, or null for anything else. */
export function trackedLinkToken(href: string, publicUrl: string): string | null {
  const shape = trackedLinkShape(href);
  if (!shape) return null;
  const expected = parse(`${publicUrl.replace(/\/+$/, '')}/c/${shape.token}`);
  return expected?.href === shape.url ? shape.token : null;
}
