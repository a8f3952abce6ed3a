import { IDENTITY_COOKIE, RETURN_TO_CONVERSATION_PARAM } from '../../api/identity.ts';
import type { ApiError, ClickResolved, Settings } from '../../api/types.ts';
import type { AppContext } from '../context.ts';
import { valuesOf } from '../delivery/personalise.ts';
import { NO_VALUES } from '../rewrite/merge-tags.ts';
import { resolveDestination } from '../rewrite/render.ts';
import { mayUseMessenger } from '../messenger/request-guards.ts';
import { clickToken, identityCookie, NO_RECIPIENT, openToken, replyEmailToken, testClickToken } from '../tokens/tokens.ts';
import { clickReason, machineHint, openReason, scannerNetwork, type HitSignals } from './classify.ts';
import { clientIp, truncateIp } from './client-ip.ts';

/** A hit on /c/ or /o/, whichever server front end it came through. */
export interface HitRequest {
  token: string;
  method: string;
  /** The request's headers by lower-case name (a Map will do: no closure made per request). */
  headers: { get(name: string): string | undefined };
  /** The socket's remote address, when there is a socket. */
  peer: string | undefined;
}

/** What to answer: the same for every front end, so none can answer differently. */
export interface HitResponse {
  status: 200 | 302 | 404;
  /**
   * Names and values in turn, Set-Cookie among them: node:http's writeHead takes the list as
   * it is, without walking an object's keys.
   */
  headers: readonly string[];
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
  headers: ['content-type', 'text/html; charset=utf-8', 'cache-control', 'no-store'],
  body: LINK_NOT_FOUND_PAGE,
};

/** An app resolving a link it opened itself (`Accept: application/json`): the same answers, as JSON. */
const JSON_NOT_FOUND: HitResponse = {
  status: 404,
  headers: ['content-type', 'application/json', 'cache-control', 'no-store'],
  body: JSON.stringify({ error: 'this link is not valid' } satisfies ApiError),
};

const resolved = (url: string): HitResponse => ({
  status: 200,
  headers: ['content-type', 'application/json', 'cache-control', 'no-store', 'referrer-policy', 'no-referrer'],
  body: JSON.stringify({ url } satisfies ClickResolved),
});

/** An app's HTTP client asking for the destination rather than a redirect (a browser's Accept never names JSON). */
const wantsJson = (req: HitRequest) => /\bapplication\/json\b/i.test(req.headers.get('accept') ?? '');

const redirect = (location: string, cookie: string | null = null): HitResponse => ({
  status: 302,
  // The tracked URL is nobody's business at the destination.
  headers:
    cookie === null
      ? ['location', location, 'cache-control', 'no-store', 'referrer-policy', 'no-referrer']
      : ['location', location, 'cache-control', 'no-store', 'referrer-policy', 'no-referrer', 'set-cookie', cookie],
  body: null,
});

const PIXEL_HEADERS = ['content-type', 'image/gif', 'content-length', String(PIXEL.length), 'cache-control', 'no-store, no-cache, must-revalidate, private'];
const PIXEL_FOUND: HitResponse = { status: 200, headers: PIXEL_HEADERS, body: PIXEL };
const PIXEL_NOT_FOUND: HitResponse = { status: 404, headers: PIXEL_HEADERS, body: PIXEL };

/**
 * The tracking routes, read by both front ends (the node:http fast lane production answers
 * them on, and the Hono routes behind it), so neither can take a path or a method the other
 * would not. HEAD is answered as GET without the body, and counted as a machine's.
 */
export const HIT_ROUTES = [
  { prefix: '/c/', kind: 'click' },
  { prefix: '/o/', kind: 'open' },
] as const;
export const HIT_METHODS: readonly string[] = ['GET', 'HEAD'];
export type HitKind = (typeof HIT_ROUTES)[number]['kind'];

/** The route a request names, and its token; null when it is not one of them in the shape they take. */
export function hitRoute(method: string | undefined, url: string): { kind: HitKind; token: string } | null {
  if (method === undefined || !HIT_METHODS.includes(method)) return null;
  const route = HIT_ROUTES.find((r) => url.startsWith(r.prefix));
  if (!route) return null;
  const end = url.indexOf('?');
  const token = url.slice(route.prefix.length, end === -1 ? undefined : end);
  return token === '' || token.includes('/') ? null : { kind: route.kind, token };
}

const PURPOSE_HEADERS = ['purpose', 'sec-purpose', 'x-purpose', 'x-moz'];
/** Every request header the hit rules read, lower-case: a front end need not collect others. */
export const HIT_HEADERS: readonly string[] = ['user-agent', 'accept', 'accept-language', ...PURPOSE_HEADERS, 'sec-gpc', 'x-forwarded-for'];

/** Purpose / Sec-Purpose / X-Purpose / X-Moz, lower-cased; usually none is sent. */
function purposeOf(req: HitRequest): string {
  let purpose = '';
  for (const name of PURPOSE_HEADERS) {
    const value = req.headers.get(name);
    if (value) purpose += ` ${value.toLowerCase()}`;
  }
  return purpose;
}

/**
 * The redirect and the open pixel. A click: verify the token, find link and recipient
 * (cached), judge human or machine, append the click to the journal, set the
 * identity cookie for a person, and answer 302 once the click is durable (in the journal).
 * An app that opened the tracked link itself (a universal link, a push) asks with
 * `Accept: application/json`: the click is recorded the same way, and the answer is the
 * destination as JSON (ClickResolved), with no cookie: no browser page is behind it.
 *
 * The rules follow the channel. The mail-delivery signals (too soon or early after delivery,
 * a burst over the mail's links, the honeypot) are a mail scanner's: a card shown in a page
 * or a push on a phone never meets one, so their clicks are judged on the request (HEAD, bot
 * user agent, prefetch, scanner networks) and on repeats alone. A card's click never sets or
 * changes the identity cookie: the widget already knows who it showed the card to.
 */
export function hitHandlers({ tracking, keys, config, store }: AppContext) {
  const trusted = new Set(config.trustedProxies);
  const secure = config.publicUrl.startsWith('https:');
  const cookieAttributes = `${config.cookieDomain ? `; Domain=${config.cookieDomain}` : ''}; Path=/${secure ? '; Secure' : ''}; SameSite=Lax`;

  function signals(req: HitRequest, at: number, sentAt: number | null, settings: Settings): HitSignals {
    const ip = clientIp(req.peer, req.headers.get('x-forwarded-for'), trusted);
    return {
      method: req.method,
      userAgent: req.headers.get('user-agent') ?? '',
      purpose: purposeOf(req),
      acceptLanguage: req.headers.get('accept-language') ?? '',
      ip,
      network: scannerNetwork(ip, settings.scannerNetworks),
      at,
      sentAt,
      scannerWindowMs: settings.scannerWindowSeconds * 1000,
    };
  }

  async function click(req: HitRequest): Promise<HitResponse> {
    const at = Date.now();
    const json = wantsJson(req);
    const notFound = json ? JSON_NOT_FOUND : NOT_FOUND;
    const ids = clickToken.verify(keys, req.token);
    if (!ids) return replyEmailToken.verify(keys, req.token) ? replyEmailClick(req, json) : testClick(req, json);
    const link = tracking.cachedLink(ids.linkId) ?? (await tracking.link(ids.linkId));
    const recipient = tracking.cachedRecipient(ids.recipientId) ?? (await tracking.recipient(ids.recipientId));
    if (!link || !recipient || link.messageId !== recipient.messageId || !link.tracked) return notFound;
    const settings = store.settingsNow() ?? (await store.getSettings());
    // A deep link goes out only while its scheme is still one of the apps' (settings).
    const location = link.honeypot
      ? `${config.publicUrl}/`
      : resolveDestination(link.url, valuesOf(recipient, link.channel), settings.mergeTagHosts, settings.deepLinkSchemes);
    if (!location) return notFound;

    const mail = link.channel === 'email';
    const deliveredAt = mail ? recipient.sentAt : null;
    const hit = signals(req, at, deliveredAt, settings);
    const fromRequest = clickReason(hit);
    const hint = fromRequest ? null : machineHint(hit);
    const history = tracking.recent.judge(recipient.id, { linkId: link.id, at, honeypot: link.honeypot }, mail ? link.messageTrackedLinks : 0, {
      reason: fromRequest,
      hint,
      sentAt: deliveredAt,
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

    // A suspect click is counted, but a scanner's must never carry anyone's identity. Nor does an
    // app's resolve (no page to greet anyone on) or a card's click (the widget knows them already).
    const person = json || link.channel === 'in_app' ? null : recipient.personId;
    const identifies =
      person !== null &&
      botReason === null &&
      suspectReason === null &&
      settings.leadEmailIdentification &&
      req.headers.get('sec-gpc') !== '1' &&
      recipient.sentAt !== null &&
      at - recipient.sentAt <= settings.identificationWindowDays * DAY;
    // The value is the verified token and a base-36 time, the attributes ours: nothing needs escaping.
    const cookie = identifies ? `${IDENTITY_COOKIE}=${identityCookie.value(req.token, at)}; Max-Age=${settings.identityCookieDays * 86_400}${cookieAttributes}` : null;
    await recorded;
    return json ? resolved(location) : redirect(location, cookie);
  }

  /**
   * A test send's link: where the recipient it was rendered as would go, and nothing else:
   * nothing recorded, judged or counted, no cookie, so a marketer's own clicks never reach
   * the stats or identify anyone.
   */
  async function testClick(req: HitRequest, json: boolean): Promise<HitResponse> {
    const notFound = json ? JSON_NOT_FOUND : NOT_FOUND;
    const ids = testClickToken.verify(keys, req.token);
    if (!ids) return notFound;
    const link = tracking.cachedLink(ids.linkId) ?? (await tracking.link(ids.linkId));
    if (!link || !link.tracked || link.honeypot) return notFound;
    let values = NO_VALUES;
    if (ids.recipientId !== NO_RECIPIENT) {
      const recipient = tracking.cachedRecipient(ids.recipientId) ?? (await tracking.recipient(ids.recipientId));
      if (!recipient || recipient.messageId !== link.messageId) return notFound;
      values = valuesOf(recipient, link.channel);
    }
    const settings = await store.getSettings();
    const location = resolveDestination(link.url, values, settings.mergeTagHosts, settings.deepLinkSchemes);
    if (!location) return notFound;
    return json ? resolved(location) : redirect(location);
  }

  /**
   * A reply email's link: to the conversation's page, with the widget told to open on it. It
   * sets no cookie and names nobody: the page's widget shows the conversation only to the
   * session it belongs to, so a forwarded mail's link shows a stranger nothing the mail didn't.
   * A person's click is recorded on the reply email (the request's own bot signals and the
   * scanner window after sending keep mail scanners out); a page no longer allowed to run the
   * widget is no destination.
   */
  async function replyEmailClick(req: HitRequest, json: boolean): Promise<HitResponse> {
    const at = Date.now();
    const notFound = json ? JSON_NOT_FOUND : NOT_FOUND;
    const { replyEmailId } = replyEmailToken.verify(keys, req.token)!;
    const target = await store.replyEmailTarget(replyEmailId);
    const page = target?.pageUrl ? URL.parse(target.pageUrl) : null;
    const settings = await store.getSettings();
    if (!target || !page || !mayUseMessenger(page.origin, config.publicUrl, settings)) return notFound;
    page.searchParams.set(RETURN_TO_CONVERSATION_PARAM, String(target.conversationId));
    if (!clickReason(signals(req, at, target.sentAt, settings))) await store.replyEmailFollowed(replyEmailId, at);
    return json ? resolved(page.href) : redirect(page.href);
  }

  async function open(req: HitRequest): Promise<HitResponse> {
    const at = Date.now();
    const ids = openToken.verify(keys, req.token);
    const recipient = ids && (await tracking.recipient(ids.recipientId));
    // A broken image in someone's mail helps nobody: unknown tokens get the pixel too, and nothing is counted.
    if (!recipient) return PIXEL_NOT_FOUND;
    const settings = store.settingsNow() ?? (await store.getSettings());
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
    return PIXEL_FOUND;
  }

  return { click, open };
}
