import type { Channel, PushPayload } from '../../api/types.ts';
import { firstName } from '../messenger/identify.ts';
import type { AddressedRecipient, MessageRecord, RecipientRecord } from '../store/store.ts';
import { renderHtml, renderText } from '../rewrite/render.ts';
import { escapeHtml, fillMergeTags, NO_VALUES, UNSUBSCRIBE_TAG } from '../rewrite/merge-tags.ts';
import { textOfHtml } from '../rewrite/plain-text.ts';
import type { MergeValues, RenderHooks, Segment } from '../rewrite/template.ts';
import { clickToken, NO_RECIPIENT, openToken, testClickToken, unsubscribeToken, type Keyring } from '../tokens/tokens.ts';

export interface RenderContext {
  keys: Keyring;
  publicUrl: string;
  mergeTagHosts: readonly string[];
}

export interface Personalised {
  subject: string;
  html: string;
  /** Always there for an email: the author's text part, or one made from the HTML. */
  text: string | null;
  /** What List-Unsubscribe and `{{unsubscribe_url}}` name; null for a mail with none (transactional, not an email). */
  unsubscribeUrl: string | null;
}

/** What a render signs: the tracked links, the unsubscribe link, and what only machines fetch (honeypot, pixel). */
interface Signing {
  trackedHref(linkIndex: number): string;
  unsubscribeToken: string;
  machinesOnly: string;
}

/** Exactly what one recipient receives: merge tags filled, tracked links signed for them, the unsubscribe line and open pixel added. */
export function personalise(message: MessageRecord, recipient: AddressedRecipient, ctx: RenderContext): Personalised {
  return render(message, valuesOf(recipient, message.channel), ctx, {
    trackedHref: trackedHref(message, recipient.id, ctx),
    unsubscribeToken: unsubscribeToken.sign(ctx.keys, recipient.id),
    machinesOnly: message.channel === 'email' ? machineTraps(message, recipient.id, ctx) : '',
  });
}

/**
 * A test send's copy, as `as` receives it (null: nobody's values): subject marked, links that
 * redirect and count nothing, an unsubscribe link that unsubscribes nobody, no honeypot or
 * open pixel, so nothing of it ever reaches the stats.
 */
export function personaliseTest(message: MessageRecord, as: AddressedRecipient | null, ctx: RenderContext): Personalised {
  const asId = as?.id ?? NO_RECIPIENT;
  const copy = render(message, as ? valuesOf(as, message.channel) : NO_VALUES, ctx, {
    trackedHref: (i) => `${ctx.publicUrl}/c/${testClickToken.sign(ctx.keys, asId, message.links[i]!.id)}`,
    unsubscribeToken: unsubscribeToken.sign(ctx.keys, NO_RECIPIENT),
    machinesOnly: '',
  });
  return { ...copy, subject: `[Test] ${copy.subject}` };
}

function render(message: MessageRecord, recipientValues: MergeValues, ctx: RenderContext, signing: Signing): Personalised {
  const email = message.channel === 'email';
  const unsubscribeUrl = email && message.kind === 'marketing' ? `${ctx.publicUrl}/u/${signing.unsubscribeToken}` : null;
  const values = unsubscribeUrl ? { ...recipientValues, unsubscribeUrl } : recipientValues;
  const { compiled } = message;
  const line = unsubscribeUrl && !writesUnsubscribe(compiled.html) ? unsubscribeLine(unsubscribeUrl) : '';
  const hooks: RenderHooks = {
    trackedHref: (i) => signing.trackedHref(i),
    footerHtml: line + signing.machinesOnly,
    mergeTagHosts: ctx.mergeTagHosts,
  };
  let text = renderText(compiled, values, hooks);
  if (text !== null && unsubscribeUrl && !writesUnsubscribe(compiled.text!)) text += `\n\nUnsubscribe: ${unsubscribeUrl}`;
  // A message compiled before text parts were made from the HTML: made from this recipient's copy.
  if (text === null && email) text = textOfHtml(renderHtml(compiled, values, { ...hooks, footerHtml: line }));
  return { subject: fillMergeTags(message.subject, values), html: renderHtml(compiled, values, hooks), text, unsubscribeUrl };
}

/** A push message for one recipient, ready for APNs or FCM: its uri tracked for them (unless it was left untracked). */
export function pushPayload(message: MessageRecord & { push: NonNullable<MessageRecord['push']> }, recipient: AddressedRecipient, ctx: RenderContext): PushPayload {
  const values = valuesOf(recipient, message.channel);
  const hooks: RenderHooks = { trackedHref: trackedHref(message, recipient.id, ctx), footerHtml: '', mergeTagHosts: ctx.mergeTagHosts };
  return {
    title: fillMergeTags(message.push.title, values),
    body: fillMergeTags(message.push.body, values),
    uri: renderText(message.compiled, values, hooks) ?? message.push.uri,
  };
}

/** An in-app card's HTML for the one it is shown to, its links tracked for them: not yet sanitised. */
export function renderCard(message: MessageRecord, recipient: RecipientRecord, ctx: RenderContext): string {
  return renderHtml(message.compiled, valuesOf(recipient, message.channel), {
    trackedHref: trackedHref(message, recipient.id, ctx),
    footerHtml: '',
    mergeTagHosts: ctx.mergeTagHosts,
  });
}

/** The href of tracked link i of the message, signed for this recipient. */
function trackedHref(message: MessageRecord, recipientId: number, ctx: { keys: Keyring; publicUrl: string }) {
  return (i: number) => `${ctx.publicUrl}/c/${clickToken.sign(ctx.keys, recipientId, message.links[i]!.id)}`;
}

/**
 * What a message's merge tags see of its recipient: their own data, for a mail or a push the
 * team sends them. An in-app card is shown in a page, to whoever the widget takes the visitor
 * for (an email click is a soft identity: a forwarded mail): there, as in the greeting, only the
 * first name, in the card and in its links' destinations alike.
 */
export function valuesOf(recipient: Pick<RecipientRecord, 'email' | 'name' | 'attributes'>, channel: Channel): MergeValues {
  if (channel === 'in_app') return { email: '', name: firstName(recipient.name), attributes: {} };
  // The recipient itself when it has an address (every email's and push's): nothing made per click.
  return recipient.email !== null ? (recipient as MergeValues) : { email: '', name: recipient.name, attributes: recipient.attributes };
}

/** Whether a part fills `{{unsubscribe_url}}` itself (else the footer line is added): per compiled part, looked at once. */
const placesUnsubscribe = new WeakMap<Segment[], boolean>();
function writesUnsubscribe(segs: Segment[]): boolean {
  let known = placesUnsubscribe.get(segs);
  if (known === undefined) {
    known = segs.some(
      (s) => typeof s !== 'string' && (('merge' in s && s.merge === UNSUBSCRIBE_TAG) || ('hrefMerge' in s && s.hrefMerge === UNSUBSCRIBE_TAG)),
    );
    placesUnsubscribe.set(segs, known);
  }
  return known;
}

/** The visible way out a marketing email carries when its author placed no `{{unsubscribe_url}}`. */
function unsubscribeLine(url: string): string {
  return (
    '<p style="margin:24px 0 0;font:12px/1.5 Arial,Helvetica,sans-serif;color:#6b6b6b;text-align:center">' +
    `Don&#39;t want these emails? <a href="${escapeHtml(url)}" style="color:#6b6b6b;text-decoration:underline">Unsubscribe</a></p>`
  );
}

/**
 * The honeypot link (hidden from people in every mail client, followed by scanners that open
 * every href) and the open pixel.
 */
function machineTraps(message: MessageRecord, recipientId: number, ctx: { keys: Keyring; publicUrl: string }): string {
  const honeypot =
    message.honeypotLinkId === null
      ? ''
      : `<div style="display:none;max-height:0;overflow:hidden;mso-hide:all" aria-hidden="true"><a href="${ctx.publicUrl}/c/${clickToken.sign(ctx.keys, recipientId, message.honeypotLinkId)}" tabindex="-1">&#8203;</a></div>`;
  const pixel = `<img src="${ctx.publicUrl}/o/${openToken.sign(ctx.keys, recipientId)}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">`;
  return honeypot + pixel;
}
