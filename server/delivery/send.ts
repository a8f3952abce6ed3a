import { randomUUID } from 'node:crypto';
import type { SendResult, SendWarning, Settings, TestSent } from '../../api/types.ts';
import { MissingValues } from '../rewrite/missing.ts';
import type { AddressedRecipient, MessageRecord, Store } from '../store/store.ts';
import type { Keyring } from '../tokens/tokens.ts';
import type { Mail, Mailer } from './mailer.ts';
import { personalise, personaliseTest, valuesOf, type Personalised } from './personalise.ts';

const PARALLEL = 4;

export interface SendDeps {
  store: Store;
  mailer: Mailer;
  keys: Keyring;
  publicUrl: string;
  /** CLICKTRAIL_FROM: the From when neither the message nor the settings name one. */
  from: string;
  /** This node's id: a send's claims are its own, given back by its next start should a crash cut the send short. */
  node: string;
}

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
 * with its reason and the rest go on. A marketing email skips the addresses on the
 * suppression list (they stay unsent, and a later send mails them once their address is off
 * it). The result always says which tags lacked a value for whom; with allowMissing false,
 * any such lack stops the send before the first mail.
 */
export async function sendMessage(message: MessageRecord, deps: SendDeps, opts: { allowMissing: boolean } = { allowMissing: true }): Promise<SendResult> {
  // In-app cards are shown by the widget, push payloads handed out by the API: only an email is ever mailed.
  if (message.channel !== 'email') throw new Error(`message ${message.id} is ${message.channel === 'push' ? 'a push' : 'an in-app'} message: it is never mailed`);
  const { claimed: queue, skipped } = await deps.store.claimUnsent(message.id, deps.node);
  // Read again once claimed: an edit of the draft up to the claim is what goes out, and none can follow it.
  const current = queue.length > 0 || skipped.length > 0 ? ((await deps.store.getMessage(message.id)) ?? message) : message;
  const missing = new MissingValues(current.compiled, current.subject);
  for (const r of queue) missing.add(r.email, valuesOf(r, current.channel));
  const warnings = missing.warnings();
  if (!opts.allowMissing && warnings.some((w) => w.reason === 'missing')) {
    // Claimed to look at them, not to send: they are the next send's, untouched.
    await deps.store.releaseClaims(message.id, [...queue, ...skipped].map((r) => r.id));
    throw new ValuesMissing(warnings);
  }
  const result: SendResult = {
    sent: 0,
    failed: 0,
    failures: [],
    skipped: skipped.length,
    skips: skipped.map((r) => ({ email: r.email, reason: 'unsubscribed' })),
    warnings,
  };
  const settings = await deps.store.getSettings();
  const ctx = { keys: deps.keys, publicUrl: deps.publicUrl, mergeTagHosts: settings.mergeTagHosts };

  async function worker(): Promise<void> {
    for (let r = queue.shift(); r; r = queue.shift()) {
      try {
        await deps.mailer.send(mailOf(current, personalise(current, r, ctx), settings, deps, {
          to: r.name ? { name: r.name, address: r.email } : r.email,
          key: `${current.id}-${r.id}`,
          messageId: messageIdFor(current, r.id, deps.publicUrl),
        }));
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
 * One test mail of a message to `to`, rendered as `as` (null: nobody's values). Nothing is
 * claimed or recorded: a draft stays a draft, and its clicks are never counted. Its outbox
 * file and Message-ID are its own, never a recipient's.
 */
export async function sendTest(message: MessageRecord, as: AddressedRecipient | null, to: string, deps: SendDeps): Promise<TestSent> {
  const settings = await deps.store.getSettings();
  const copy = personaliseTest(message, as, { keys: deps.keys, publicUrl: deps.publicUrl, mergeTagHosts: settings.mergeTagHosts });
  const once = randomUUID();
  await deps.mailer.send(
    mailOf(message, copy, settings, deps, {
      to,
      key: `test-${message.id}-${once}`,
      messageId: `<clicktrail.test.${message.id}.${once}@${new URL(deps.publicUrl).hostname}>`,
    }),
  );
  return { to, as: as?.email ?? null, subject: copy.subject };
}

/** Who a message is from and to reply to: its own, else the settings' defaults, else CLICKTRAIL_FROM (From only). */
export function senderOf(message: MessageRecord, settings: Settings, fallbackFrom: string): { from: string; replyTo: string | null } {
  return { from: message.from ?? settings.defaultFrom ?? fallbackFrom, replyTo: message.replyTo ?? settings.defaultReplyTo };
}

function mailOf(
  message: MessageRecord,
  copy: Personalised,
  settings: Settings,
  deps: SendDeps,
  envelope: Pick<Mail, 'to' | 'key' | 'messageId'>,
): Mail {
  const { from, replyTo } = senderOf(message, settings, deps.from);
  return {
    ...envelope,
    from,
    ...(replyTo && { replyTo }),
    subject: copy.subject,
    html: copy.html,
    text: copy.text ?? undefined,
    ...(copy.unsubscribeUrl && unsubscribeHeaders(copy.unsubscribeUrl, replyTo)),
  };
}

/**
 * RFC 2369's List-Unsubscribe with RFC 8058's one-click POST (what Gmail and Yahoo ask of bulk
 * senders): the https link first, a mailto to the reply address where there is one.
 */
function unsubscribeHeaders(url: string, replyTo: string | null): Pick<Mail, 'list' | 'headers'> {
  const address = replyTo && (/<([^<>]+)>\s*$/.exec(replyTo)?.[1] ?? replyTo).trim();
  return {
    list: { unsubscribe: [address ? [url, `mailto:${address}?subject=unsubscribe`] : [url]] },
    headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  };
}

/**
 * Stable per (message, recipient), and unique per installation: the message's creation time
 * tells this database's message 1 from another's. No address or name in it: it travels with the mail.
 */
export function messageIdFor(message: MessageRecord, recipientId: number, publicUrl: string): string {
  return `<clicktrail.${message.id}.${recipientId}.${message.createdAt.toString(36)}@${new URL(publicUrl).hostname}>`;
}
