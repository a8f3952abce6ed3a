import sanitizeHtml from 'sanitize-html';
import type { Audience, InAppCard, PersonRef } from '../../api/types.ts';
import type { AppContext } from '../context.ts';
import { renderCard } from '../delivery/personalise.ts';
import type { InAppViewer, VisitorIdentity } from '../store/store.ts';

/** Who the booting visitor is, as far as the team may rely on it: a settled identity, or nobody. */
export interface InAppAudienceMember {
  identity: VisitorIdentity;
  person: PersonRef;
  /** A verified identity's user id (the one thing its userHash signs). */
  userId: string | null;
}

/** As the people table keys leads (SQLite's COLLATE NOCASE): ASCII letters fold, nothing else. */
const emailKey = (email: string) => email.trim().replace(/[A-Z]+/g, (c) => c.toLowerCase());

/**
 * Whether an audience takes this visitor in. `identified`: a lead known by an email click, or a
 * verified user. `people`: listed emails match leads known by an email click (their address is
 * the people table's key), listed user ids match verified users; a verified user's email is
 * their own unproven attribute, so it matches nobody's list.
 */
export function inAudience(audience: Audience, member: InAppAudienceMember | null): boolean {
  switch (audience.type) {
    case 'everyone':
      return true;
    case 'identified':
      return member !== null;
    case 'people':
      if (member?.identity.identifiedBy === 'email-click') return audience.emails.some((e) => emailKey(e) === emailKey(member.person.email));
      if (member?.identity.identifiedBy === 'verified') return member.userId !== null && audience.userIds.includes(member.userId);
      return false;
  }
}

/** Author markup a card may keep: text, lists, headings, links and images; no forms, frames or media. */
const CARD_TAGS = [
  ...['p', 'br', 'hr', 'div', 'span', 'blockquote', 'pre', 'code', 'h1', 'h2', 'h3', 'h4', 'ul', 'ol', 'li'],
  ...['strong', 'b', 'em', 'i', 'u', 's', 'small', 'sub', 'sup', 'mark', 'a', 'img'],
];

/**
 * The card as the page gets it. Nothing that runs (scripts, event handlers, `javascript:`) and
 * nothing that styles: no style attribute or element, no class or id, which would take the
 * widget's own rules (a `.panel` is position: fixed) and let the card escape its box or cover
 * the page. Links may be http(s) or the apps' deep links; images only http(s).
 */
export function sanitizeCard(html: string, deepLinkSchemes: readonly string[]): string {
  return sanitizeHtml(html, {
    allowedTags: CARD_TAGS,
    allowedAttributes: { a: ['href', 'title'], img: ['src', 'alt', 'width', 'height'] },
    allowedSchemes: ['http', 'https', ...deepLinkSchemes],
    allowedSchemesByTag: { img: ['http', 'https'] },
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    // Their text is not the card's to show either (a <title>, a <template>'s inert markup).
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'title', 'template'],
    // An image whose source was refused (data:, javascript:) would only show as broken.
    exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src,
  }).trim();
}

/**
 * The published in-app messages to show this visitor now, oldest first: those whose audience
 * takes them in and that were never shown in this widget session or to the person they are.
 * Being returned is being shown: each gets its recipient row now (sent = shown), once per
 * person, or per widget session for an anonymous visitor of an `everyone` audience, and its
 * links are signed for that row, so a click on the card is that person's (or that anonymous
 * visitor's) click in the message's stats.
 */
export async function showInApp(ctx: AppContext, visitorId: number, member: InAppAudienceMember | null): Promise<InAppCard[]> {
  const { store } = ctx;
  const viewer: InAppViewer = { visitorId, person: member?.person ?? null };
  const unseen = await store.unseenInApp(viewer);
  if (unseen.length === 0) return [];
  const settings = await store.getSettings();
  const links = { keys: ctx.keys, publicUrl: ctx.config.publicUrl, mergeTagHosts: settings.mergeTagHosts };
  const cards: InAppCard[] = [];
  for (const message of unseen) {
    if (!message.audience || !inAudience(message.audience, member)) continue;
    const recipient = await store.showInApp(message.id, viewer, Date.now());
    if (!recipient) continue; // another page load of theirs showed it this moment
    cards.push({
      messageId: message.id,
      html: sanitizeCard(renderCard(message, recipient, links), settings.deepLinkSchemes),
      dismissUrl: `${ctx.config.publicUrl}/messenger/in-app/${message.id}/dismiss`,
    });
  }
  return cards;
}
