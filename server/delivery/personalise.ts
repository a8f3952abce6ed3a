import type { MessageRecord, RecipientRecord } from '../store/store.ts';
import { renderHtml, renderText } from '../rewrite/render.ts';
import { fillMergeTags } from '../rewrite/merge-tags.ts';
import type { MergeValues, RenderHooks } from '../rewrite/template.ts';
import { clickToken, openToken, type Keyring } from '../tokens/tokens.ts';

/** Exactly what one recipient receives: merge tags filled, tracked links signed for them, the open pixel added. */
export function personalise(
  message: MessageRecord,
  recipient: RecipientRecord,
  ctx: { keys: Keyring; publicUrl: string; mergeTagHosts: readonly string[] },
): { subject: string; html: string; text: string | null } {
  const values = valuesOf(recipient);
  const hooks: RenderHooks = {
    trackedHref: (i) => `${ctx.publicUrl}/c/${clickToken.sign(ctx.keys, recipient.id, message.links[i]!.id)}`,
    footerHtml: message.channel === 'email' ? emailFooter(message, recipient.id, ctx) : '',
    mergeTagHosts: ctx.mergeTagHosts,
  };
  return {
    subject: fillMergeTags(message.subject, values),
    html: renderHtml(message.compiled, values, hooks),
    text: renderText(message.compiled, values, hooks),
  };
}

export function valuesOf(recipient: RecipientRecord): MergeValues {
  return { email: recipient.email, name: recipient.name, attributes: recipient.attributes };
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
