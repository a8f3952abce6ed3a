import type { SendResult, SendWarning } from '../../api/types.ts';
import { MissingValues } from '../rewrite/missing.ts';
import type { MessageRecord, Store } from '../store/store.ts';
import type { Keyring } from '../tokens/tokens.ts';
import type { Mailer } from './mailer.ts';
import { personalise, valuesOf } from './personalise.ts';

const PARALLEL = 4;

/** A send with `allowMissing: false` that found values missing: nobody was mailed. */
export class ValuesMissing extends Error {
  constructor(readonly warnings: SendWarning[]) {
    const tags = [...new Set(warnings.map((w) => w.tag))].join(', ');
    super(`not sent: recipients lack values for ${tags}; add them, or send with allowMissing: true`);
  }
}

/**
 * Delivers a message to every recipient not yet sent. Each recipient is claimed first, so
 * a second send (even a concurrent one) never mails anyone twice; one failure is recorded
 * with its reason and the rest go on. The result always says which tags lacked a value for
 * whom; with allowMissing false, any such lack stops the send before the first mail.
 */
export async function sendMessage(
  message: MessageRecord,
  deps: { store: Store; mailer: Mailer; keys: Keyring; publicUrl: string; from: string; mergeTagHosts: readonly string[] },
  opts: { allowMissing: boolean } = { allowMissing: true },
): Promise<SendResult> {
  // In-app cards are shown by the widget, push payloads handed out by the API: only an email is ever mailed.
  if (message.channel !== 'email') throw new Error(`message ${message.id} is ${message.channel === 'push' ? 'a push' : 'an in-app'} message: it is never mailed`);
  const queue = await deps.store.claimUnsent(message.id);
  const missing = new MissingValues(message.compiled, message.subject);
  for (const r of queue) missing.add(r.email, valuesOf(r, message.channel));
  const warnings = missing.warnings();
  if (!opts.allowMissing && warnings.some((w) => w.reason === 'missing')) {
    // Claimed to look at them, not to send: they are the next send's, untouched.
    await deps.store.releaseClaims(queue.map((r) => r.id));
    throw new ValuesMissing(warnings);
  }
  const result: SendResult = { sent: 0, failed: 0, failures: [], warnings };
  // The first send that mails anyone makes the message sent (no longer a draft).
  if (queue.length > 0) await deps.store.markMessageSent(message.id, Date.now());

  async function worker(): Promise<void> {
    for (let r = queue.shift(); r; r = queue.shift()) {
      const { subject, html, text } = personalise(message, r, deps);
      try {
        await deps.mailer.send({
          from: deps.from,
          to: r.name ? { name: r.name, address: r.email } : r.email,
          subject,
          html,
          text: text ?? undefined,
          key: `${message.id}-${r.id}`,
          messageId: messageIdFor(message, r.id, deps.publicUrl),
        });
        await deps.store.recordDelivery(r.id, { ok: true, at: Date.now() });
        result.sent++;
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        await deps.store.recordDelivery(r.id, { ok: false, error });
        result.failed++;
        result.failures.push({ email: r.email, error });
      }
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return result;
}

/**
 * Stable per (message, recipient), and unique per installation: the message's creation time
 * tells this database's message 1 from another's. No address or name in it: it travels with the mail.
 */
export function messageIdFor(message: MessageRecord, recipientId: number, publicUrl: string): string {
  return `<clicktrail.${message.id}.${recipientId}.${message.createdAt.toString(36)}@${new URL(publicUrl).hostname}>`;
}
