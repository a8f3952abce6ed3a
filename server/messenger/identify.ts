import { createHmac, timingSafeEqual } from 'node:crypto';
import { HTTPException } from 'hono/http-exception';
import type { MessengerBootBody } from '../../api/schemas.ts';
import type { PersonRef, Settings } from '../../api/types.ts';
import { fillMergeTags } from '../rewrite/merge-tags.ts';
import { identityCookie, type Keyring } from '../tokens/tokens.ts';
import type { Store, VisitorIdentity } from '../store/store.ts';

export interface Identified {
  identity: VisitorIdentity;
  person: PersonRef;
  /**
   * An email-click identity whose click can still be taken back (the hits after it are not all
   * in): the visitor may be greeted, but the team is told only at this time, if the click is
   * still a person's then. Null: settled.
   */
  confirmAt: number | null;
  /** The identifying click's time (email-click identities). */
  clickAt: number | null;
}

/** What a host page's backend computes: hex HMAC-SHA256 of the user id with settings.identitySecret. */
export function userHash(identitySecret: string, userId: string): string {
  return createHmac('sha256', identitySecret).update(userId).digest('hex');
}

function hashMatches(identitySecret: string, userId: string, given: string): boolean {
  if (!identitySecret || !/^[0-9a-fA-F]{64}$/.test(given)) return false;
  return timingSafeEqual(Buffer.from(userHash(identitySecret, userId), 'hex'), Buffer.from(given, 'hex'));
}

/**
 * Who the booting visitor is. A verified user must carry the right userHash (else 403) and
 * is their own person, found by user id alone. The identity cookie counts only when lead
 * identification is on, the browser doesn't ask for Global Privacy Control, and it names a
 * person's click as the redirect would have set it for (personClicking); anything else
 * (forged, expired, foreign, a made-up time) boots as anonymous.
 */
export async function identify(
  body: Pick<MessengerBootBody, 'identity' | 'user'>,
  deps: { store: Store; keys: Keyring; settings: Settings; gpc: boolean },
): Promise<Identified | null> {
  if (body.user) {
    const { userId, email, name, userHash: given } = body.user;
    if (!hashMatches(deps.settings.identitySecret, userId, given)) {
      throw new HTTPException(403, { message: 'userHash does not match userId' });
    }
    // userHash signs the user id only: the email is unproven, so it is this user's attribute,
    // never a way to another person (a lead a recipient row knows by that email stays apart).
    const person = await deps.store.upsertVerifiedPerson(userId, { email, name: name || null });
    return { person, identity: { personId: person.id, identifiedBy: 'verified', recipientId: null, linkId: null }, confirmAt: null, clickAt: null };
  }
  if (!body.identity || !deps.settings.leadEmailIdentification || deps.gpc) return null;
  const click = identityCookie.read(deps.keys, body.identity);
  const personId = click && (await personClicking(click, deps));
  if (!click || personId === null) return null;
  // A scanner's hit taken back after the cookie went out (a burst, the honeypot) names nobody.
  const verdict = await deps.store.clickVerdict(click.recipientId, click.linkId, click.clickAt);
  if (verdict === 'machine') return null;
  // Not in the database: a click made moments ago, still on its way from a journal; past that, a time no click had.
  if (verdict === null && Date.now() - click.clickAt > UNWRITTEN_MS) return null;
  const person = await deps.store.getPerson(personId);
  if (!person) return null;
  const settledAt = click.clickAt + deps.settings.identificationDelaySeconds * 1000;
  const now = Date.now();
  return {
    person,
    identity: { personId: person.id, identifiedBy: 'email-click', recipientId: click.recipientId, linkId: click.linkId },
    // Not in the database yet means not judged yet, whatever the time.
    confirmAt: settledAt > now || verdict === null ? Math.max(settledAt, now + 1_000) : null,
    clickAt: click.clickAt,
  };
}

const DAY = 86_400_000;
/** Clocks of the nodes that answer clicks may be this far apart. */
const CLOCK_SKEW_MS = 60_000;
/**
 * How long a click may be answered and not yet in the database: the journal is written in
 * within a second or so, and this leaves room for a database that was briefly away.
 */
export const UNWRITTEN_MS = 10 * 60_000;

/**
 * What the redirect checked before it set the cookie, checked again from the database: the
 * cookie itself signs only the click's token, so its time is held to the rules here. A mail's
 * or a push's click (a card's never sets one), of a recipient who is a person, within the
 * identification window of the delivery, and the cookie not past its days (the browser's
 * Max-Age aside). The recipient's person, or null.
 */
async function personClicking(click: { recipientId: number; linkId: number; clickAt: number }, deps: { store: Store; settings: Settings }): Promise<number | null> {
  const now = Date.now();
  const { settings } = deps;
  if (click.clickAt > now + CLOCK_SKEW_MS || click.clickAt + settings.identityCookieDays * DAY <= now) return null;
  const recipient = await deps.store.getRecipient(click.recipientId);
  const link = await deps.store.getLink(click.linkId);
  const rightClick =
    recipient?.sentAt != null &&
    link?.messageId === recipient.messageId &&
    link.channel !== 'in_app' &&
    click.clickAt - recipient.sentAt <= settings.identificationWindowDays * DAY;
  return rightClick ? recipient.personId : null;
}


export function firstName(name: string | null): string | null {
  return (name ?? '').trim().split(/\s+/)[0] || null;
}

/** The greeting setting with its merge tags filled from the first name only: nothing else about the person reaches the page. */
export function renderGreeting(template: string, first: string | null): string {
  return fillMergeTags(template, { email: '', name: first, attributes: {} })
    .replace(/ {2,}/g, ' ')
    .trim();
}
