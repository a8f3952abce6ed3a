import type { Channel, PushPayload } from '../../api/types.ts';
import type { AddressedRecipient, MessageRecord, RecipientRecord } from '../store/store.ts';
import { renderHtml, renderText } from '../rewrite/render.ts';
import { fillMergeTags } from '../rewrite/merge-tags.ts';
import type { MergeValues, RenderHooks } from '../rewrite/template.ts';
import { firstName } from '../messenger/identify.ts';
import { clickToken, openToken, type Keyring } from '../tokens/tokens.ts';

interface LinkContext {
  keys: Keyring;
  publicUrl: string;
  mergeTagHosts: readonly string[];
}

/** Exactly what one recipient receives: merge tags filled, tracked links signed for them, the open pixel added. */
export function personalise(
  message: MessageRecord,
  recipient: AddressedRecipient,
  ctx: LinkContext,
): { subject: string; html: string; text: string | null } {
  const values = valuesOf(recipient, message.channel);
  const hooks: RenderHooks = {
    trackedHref: trackedHref(message, recipient.id, ctx),
    footerHtml: message.channel === 'email' ? emailFooter(message, recipient.id, ctx) : '',
    mergeTagHosts: ctx.mergeTagHosts,
  };
  return {
    subject: fillMergeTags(message.subject, values),
    html: renderHtml(message.compiled, values, hooks),
    text: renderText(message.compiled, values, hooks),
  };
}

/** A push message for one recipient, ready for APNs or FCM: its uri tracked for them (unless it was left untracked). */
export function pushPayload(message: MessageRecord & { push: NonNullable<MessageRecord['push']> }, recipient: AddressedRecipient, ctx: LinkContext): PushPayload {
  const values = valuesOf(recipient, message.channel);
  const hooks: RenderHooks = { trackedHref: trackedHref(message, recipient.id, ctx), footerHtml: '', mergeTagHosts: ctx.mergeTagHosts };
  return {
    title: fillMergeTags(message.push.title, values),
    body: fillMergeTags(message.push.body, values),
    uri: renderText(message.compiled, values, hooks) ?? message.push.uri,
  };
}

/** An in-app card's HTML for the one it is shown to, its links tracked for them: not yet sanitised. */
export function renderCard(message: MessageRecord, recipient: RecipientRecord, ctx: LinkContext): string {
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
  return { email: recipient.email ?? '', name: recipient.name, attributes: recipient.attributes };
}

/**
 * The honeypot link (hidden from people in every mail client, followed by scanners that open
 * every href) and the open pixel.
 */
function emailFooter(message: MessageRecord, recipientId: number, ctx: { keys: Keyring; publicUrl: string }): string {
  const honeypot =
    message.honeypotLinkId === null
      ? ''
      : `<div style="display:none;max-height:0;overflow:hidden;mso-hide:all" aria-hidden="true"><a href="${ctx.publicUrl}/c/${clickToken.sign(ctx.keys, recipientId, message.honeypotLinkId)}" tabindex="-1">&#8203;</a></div>`;
  const pixel = `<img src="${ctx.publicUrl}/o/${openToken.sign(ctx.keys, recipientId)}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">`;
  return honeypot + pixel;
}
