import { IDENTITY_COOKIE } from '../../api/identity.ts';
import type { Settings } from '../../api/types.ts';
import type { AppContext } from '../context.ts';
import { NO_VALUES } from '../rewrite/merge-tags.ts';
import { resolveDestination } from '../rewrite/render.ts';
import { clickToken, identityToken, NO_RECIPIENT, openToken, testClickToken } from '../tokens/tokens.ts';
import { clickReason, machineHint, openReason, scannerNetwork, type HitSignals } from './classify.ts';
import { clientIp, truncateIp } from './client-ip.ts';

/** A hit on /c/ or /o/, whichever server front end it came through. */
export interface HitRequest {
  token: string;
  method: string;
  header(name: string): string | undefined;
  /** The socket's remote address, when there is a socket. */
  peer: string | undefined;
}

/** What to answer: the same for every front end, so none can answer differently. */
export interface HitResponse {
  status: 200 | 302 | 404;
  headers: Record<string, string>;
  /** Set-Cookie values. */
  cookies: string[];
  body: string | Buffer | null;
}

const DAY = 86_400_000;
// The smallest transparent GIF: 1×1, one colour.
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/** What any of our links that fails its check or names nothing answers (/c/, /u/). */
export const LINK_NOT_FOUND_PAGE =
  '<!doctype html><meta charset="utf-8"><title>Link not found</title>' +
  '<p style="font:16px system-ui,sans-serif;margin:3em auto;max-width:30em">This link is not valid. ' +
  'If you copied it from an email, check that it was copied whole.</p>';

const NOT_FOUND: HitResponse = {
  status: 404,
  headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
  cookies: [],
  body: LINK_NOT_FOUND_PAGE,
};

const redirect = (location: string, cookies: string[] = []): HitResponse => ({
  status: 302,
  // The tracked URL is nobody's business at the destination.
  headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
  cookies,
  body: null,
});

const pixel = (found: boolean): HitResponse => ({
  status: found ? 200 : 404,
  headers: {
    'content-type': 'image/gif',
    'content-length': String(PIXEL.length),
    'cache-control': 'no-store, no-cache, must-revalidate, private',
  },
  cookies: [],
  body: PIXEL,
});

const PURPOSE_HEADERS = ['purpose', 'sec-purpose', 'x-purpose', 'x-moz'];
/** Every request header the hit rules read, lower-case: a front end need not collect others. */
export const HIT_HEADERS: readonly string[] = ['user-agent', 'accept-language', ...PURPOSE_HEADERS, 'sec-gpc', 'x-forwarded-for'];

/** Purpose / Sec-Purpose / X-Purpose / X-Moz, lower-cased; usually none is sent. */
function purposeOf(req: HitRequest): string {
  let purpose = '';
  for (const name of PURPOSE_HEADERS) {
    const value = req.header(name);
    if (value) purpose += ` ${value.toLowerCase()}`;
  }
  return purpose;
}

/**
 * The redirect and the open pixel. A click: verify the token, find link and recipient
 * (cached), judge human or machine, append the click to the journal, set the
 * identity cookie for a person, and answer 302 once the click is durable (in the journal).
 */
export function hitHandlers({ tracking, keys, config, store }: AppContext) {
  const trusted = new Set(config.trustedProxies);
  const secure = config.publicUrl.startsWith('https:');
  const cookieAttributes = `${config.cookieDomain ? `; Domain=${config.cookieDomain}` : ''}; Path=/${secure ? '; Secure' : ''}; SameSite=Lax`;

  function signals(req: HitRequest, at: number, sentAt: number | null, settings: Settings): HitSignals {
    const ip = clientIp(req.peer, req.header('x-forwarded-for'), trusted);
    return {
      method: req.method,
      userAgent: req.header('user-agent') ?? '',
      purpose: purposeOf(req),
      acceptLanguage: req.header('accept-language') ?? '',
      ip,
      network: scannerNetwork(ip, settings.scannerNetworks),
      at,
      sentAt,
      scannerWindowMs: settings.scannerWindowSeconds * 1000,
    };
  }

  async function click(req: HitRequest): Promise<HitResponse> {
    const at = Date.now();
    const ids = clickToken.verify(keys, req.token);
    if (!ids) return testClick(req);
    const link = tracking.cachedLink(ids.linkId) ?? (await tracking.link(ids.linkId));
    const recipient = tracking.cachedRecipient(ids.recipientId) ?? (await tracking.recipient(ids.recipientId));
    if (!link || !recipient || link.messageId !== recipient.messageId || !link.tracked) return NOT_FOUND;
    const settings = await store.getSettings();
    const location = link.honeypot ? `${config.publicUrl}/` : resolveDestination(link.url, recipient, settings.mergeTagHosts);
    if (!location) return NOT_FOUND;

    const hit = signals(req, at, recipient.sentAt, settings);
    const fromRequest = clickReason(hit);
    const hint = fromRequest ? null : machineHint(hit);
    const history = tracking.recent.judge(recipient.id, { linkId: link.id, at, honeypot: link.honeypot }, link.messageTrackedLinks, {
      reason: fromRequest,
      hint,
      sentAt: recipient.sentAt,
      earlyWindowMs: settings.earlyWindowSeconds * 1000,
    });
    const botReason = fromRequest ?? history.reason;
    const suspectReason = botReason === null ? history.suspect : null;

    const recorded = tracking.record({
      kind: 'click',
      linkId: link.id,
      recipientId: recipient.id,
      messageId: link.messageId,
      at,
      botReason,
      suspectReason,
      ...(hint && botReason === null ? { hint } : {}),
      ip: truncateIp(hit.ip),
      userAgent: hit.userAgent.slice(0, 512) || null,
    });
    if (history.reclassify) void tracking.record({ kind: 'reclassify', recipientId: recipient.id, ...history.reclassify });

    const cookies: string[] = [];
    // A suspect click is counted, but a scanner's must never carry anyone's identity.
    const identifies =
      botReason === null &&
      suspectReason === null &&
      settings.leadEmailIdentification &&
      req.header('sec-gpc') !== '1' &&
      recipient.sentAt !== null &&
      at - recipient.sentAt <= settings.identificationWindowDays * DAY;
    if (identifies) {
      const maxAge = settings.identityCookieDays * 86_400;
      const value = identityToken.sign(keys, {
        personId: recipient.personId,
        recipientId: recipient.id,
        linkId: link.id,
        expiresAt: at + maxAge * 1000,
        clickAt: at,
      });
      // The value is base64url and the attributes are ours: nothing here needs escaping.
      cookies.push(`${IDENTITY_COOKIE}=${value}; Max-Age=${maxAge}${cookieAttributes}`);
    }
    await recorded;
    return redirect(location, cookies);
  }

  /**
   * A test send's link: where the recipient it was rendered as would go, and nothing else:
   * nothing recorded, judged or counted, no cookie, so a marketer's own clicks never reach
   * the stats or identify anyone.
   */
  async function testClick(req: HitRequest): Promise<HitResponse> {
    const ids = testClickToken.verify(keys, req.token);
    if (!ids) return NOT_FOUND;
    const link = tracking.cachedLink(ids.linkId) ?? (await tracking.link(ids.linkId));
    if (!link || !link.tracked || link.honeypot) return NOT_FOUND;
    let values = NO_VALUES;
    if (ids.recipientId !== NO_RECIPIENT) {
      const recipient = tracking.cachedRecipient(ids.recipientId) ?? (await tracking.recipient(ids.recipientId));
      if (!recipient || recipient.messageId !== link.messageId) return NOT_FOUND;
      values = recipient;
    }
    const location = resolveDestination(link.url, values, (await store.getSettings()).mergeTagHosts);
    return location ? redirect(location) : NOT_FOUND;
  }

  async function open(req: HitRequest): Promise<HitResponse> {
    const at = Date.now();
    const ids = openToken.verify(keys, req.token);
    const recipient = ids && (await tracking.recipient(ids.recipientId));
    // A broken image in someone's mail helps nobody: unknown tokens get the pixel too, and nothing is counted.
    if (!recipient) return pixel(false);
    const settings = await store.getSettings();
    const hit = signals(req, at, recipient.sentAt, settings);
    await tracking.record({
      kind: 'open',
      recipientId: recipient.id,
      messageId: recipient.messageId,
      at,
      botReason: openReason(hit),
      ip: truncateIp(hit.ip),
      userAgent: hit.userAgent.slice(0, 512) || null,
    });
    return pixel(true);
  }

  return { click, open };
}
