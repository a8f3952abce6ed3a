import type { PersonRef } from '../../api/types.ts';
import type { Messenger } from './messenger.ts';
import type { VisitorIdentity } from '../store/store.ts';

/** The team hears of a lead's page at most once per this window (reloads and tabs don't spam). */
export const VISIT_NOTIFY_WINDOW_MS = 5 * 60_000;

/** Records an identified lead's page load, and tells the team unless they were told of this page lately. */
export async function recordLeadVisit(
  m: Messenger,
  v: { visitorId: number; identity: VisitorIdentity; person: PersonRef; url: string; referrer: string | null },
  now = Date.now(),
): Promise<void> {
  const url = v.url.split('#')[0]!;
  const { recipientId, linkId } = v.identity;
  const { recent } = await m.store.recordVisit(
    { visitorId: v.visitorId, personId: v.person.id, url, referrer: v.referrer, recipientId, linkId, at: now },
    now - VISIT_NOTIFY_WINDOW_MS,
  );
  if (recent) return;
  const origin = recipientId !== null && linkId !== null ? await m.store.clickOrigin(recipientId, linkId) : null;
  await m.events.publish({
    type: 'lead.visit',
    at: new Date(now).toISOString(),
    person: v.person,
    identifiedBy: v.identity.identifiedBy,
    url,
    referrer: v.referrer || null,
    messageId: origin?.messageId ?? null,
    messageSubject: origin?.subject ?? null,
    linkId: origin?.linkUrl != null ? linkId : null,
    linkUrl: origin?.linkUrl ?? null,
  });
}
