import { createHmac, timingSafeEqual } from 'node:crypto';
import { HTTPException } from 'hono/http-exception';
import type { MessengerBootBody } from '../../api/schemas.ts';
import type { PersonRef, Settings } from '../../api/types.ts';
import { fillMergeTags } from '../rewrite/merge-tags.ts';
import { identityToken, type Keyring } from '../tokens/tokens.ts';
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
 * identification is on, the browser doesn't ask for Global Privacy Control, and the signed
 * token still names the recipient it was made for; anything else (forged, expired, foreign)
 * boots as anonymous.
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
  const token = identityToken.verify(deps.keys, body.identity);
  if (!token || (await deps.store.recipientPerson(token.recipientId)) !== token.personId) return null;
  // A scanner's hit taken back after the cookie went out (a burst, the honeypot) names nobody.
  const verdict = await deps.store.clickVerdict(token.recipientId, token.linkId, token.clickAt);
  if (verdict === 'machine') return null;
  const person = await deps.store.getPerson(token.personId);
  if (!person) return null;
  const settledAt = token.clickAt + deps.settings.identificationDelaySeconds * 1000;
  const now = Date.now();
  return {
    person,
    identity: { personId: person.id, identifiedBy: 'email-click', recipientId: token.recipientId, linkId: token.linkId },
    // Not in the database yet means not judged yet, whatever the time.
    confirmAt: settledAt > now || verdict === null ? Math.max(settledAt, now + 1_000) : null,
    clickAt: token.clickAt,
  };
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
