import type { ConversationMessage, Settings } from '../../api/types.ts';
import type { Mail, Mailer } from '../delivery/mailer.ts';
import { escapeHtml } from '../rewrite/merge-tags.ts';
import type { ReplyEmailClaim, ReplyEmailClock, Store } from '../store/store.ts';
import { replyEmailToken, type Keyring } from '../tokens/tokens.ts';
import { mayUseMessenger } from './request-guards.ts';

const MINUTE = 60_000;
/** How often each process looks for replies due: a mail goes out within this after its time. */
const LOOK_EVERY_MS = 15_000;
/** Claims taken at a time; a look goes on until it finds none. */
const CLAIMS = 50;
/** A claim still sending after this was cut short (its process died): an SMTP send gives up long before. */
const ABANDONED_AFTER_MS = 10 * MINUTE;
/** A failed send is tried again after this, MAX_ATTEMPTS times in all. */
const RETRY_AFTER_MS = 5 * MINUTE;
const MAX_ATTEMPTS = 5;
/**
 * Replies that waited this much longer than the setting are not mailed any more: a week-old
 * answer landing in someone's inbox the day replies by email are switched on, or an address
 * is given, is not what they asked for.
 */
const TOO_LATE_MS = 7 * 24 * 60 * MINUTE;

export interface ReplyEmailDeps {
  store: Store;
  mailer: Mailer;
  keys: Keyring;
  publicUrl: string;
  /** CLICKTRAIL_FROM: the From when settings.defaultFrom is null. */
  from: string;
}

/**
 * Mails a visitor the team replies they have not seen settings.replyByEmailAfterMinutes after
 * the first of them was written, one mail for all the replies waiting by then. The work is
 * found in the database (conversations.unseen_reply_at), so a restart loses none of it, and each
 * mail is claimed there before it is sent (claimReplyEmails), so every process of every node
 * may look, and only one sends a given mail. A claim cut short by a crash, or a failed send, is
 * claimed again later under the same id: the same outbox file and Message-ID, so a repeat is
 * recognisable as one.
 */
export class ReplyEmailSender {
  private timer: NodeJS.Timeout | null = null;
  private looking: Promise<number> = Promise.resolve(0);

  constructor(private readonly deps: ReplyEmailDeps) {}

  start(): void {
    this.timer ??= setInterval(() => void this.run().catch(() => {}), LOOK_EVERY_MS).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * One look at `now` (a test passes a clock of its own): claims what is due then and mails it.
   * A process's looks take turns. Resolves with the number of mails sent.
   */
  run(now = Date.now()): Promise<number> {
    const look = this.looking.catch(() => 0).then(() => this.look(now));
    this.looking = look.catch((err: unknown) => {
      console.error(`[clicktrail] replies by email: ${redact(err instanceof Error ? err.message : String(err))}`);
      return 0;
    });
    return look;
  }

  private async look(now: number): Promise<number> {
    const settings = await this.deps.store.getSettings();
    if (settings.replyByEmailAfterMinutes === null) return 0;
    const wait = settings.replyByEmailAfterMinutes * MINUTE;
    const clock: ReplyEmailClock = {
      now,
      dueBy: now - wait,
      oldestBy: now - wait - TOO_LATE_MS,
      abandonedBefore: now - ABANDONED_AFTER_MS,
      retryBefore: now - RETRY_AFTER_MS,
      maxAttempts: MAX_ATTEMPTS,
    };
    let sent = 0;
    // Each claim leaves the due set (a new one) or is stamped now (a retry): this ends.
    for (let claims = await this.deps.store.claimReplyEmails(clock, CLAIMS); claims.length > 0; claims = await this.deps.store.claimReplyEmails(clock, CLAIMS)) {
      for (const claim of claims) if (await this.deliver(claim, settings)) sent++;
    }
    return sent;
  }

  private async deliver(claim: ReplyEmailClaim, settings: Settings): Promise<boolean> {
    const { store, mailer } = this.deps;
    const { address, pageUrl, replies } = await store.replyEmailContent(claim);
    // Seen since it was claimed (the visitor came back): nothing left to tell them.
    if (replies.length === 0) {
      await store.recordReplyEmail(claim.id, { status: 'seen' });
      return false;
    }
    try {
      if (!address) throw new Error('no address for the visitor any more');
      await mailer.send(replyEmail({ claim, to: address, pageUrl, replies, settings, ...this.deps }));
      await store.recordReplyEmail(claim.id, { status: 'sent', at: Date.now() });
      return true;
    } catch (err) {
      // An SMTP refusal quotes the address: it stays out of the log, and out of the database.
      const error = redact(err instanceof Error ? err.message : String(err));
      await store.recordReplyEmail(claim.id, { status: 'failed', error });
      const again = claim.attempt < MAX_ATTEMPTS ? `tried again in ${RETRY_AFTER_MS / MINUTE} minutes` : 'given up';
      console.error(`[clicktrail] reply email ${claim.id} of conversation ${claim.conversationId} failed (attempt ${claim.attempt}, ${again}): ${error}`);
      return false;
    }
  }
}

/** Anything that looks like an email address, out of a text bound for a log. */
export const redact = (text: string) => text.replace(/[^\s<>@"'(),;:]+@[^\s<>@"'(),;:]+/g, '<address>');


/**
 * The mail: the replies' text (HTML-escaped in the HTML part, as written in the text part) and
 * a link back to the conversation. Only the team's replies: never the visitor's own messages,
 * which would let anyone who types someone else's address into the widget mail them words of
 * their own from the shop. The link is a /c/ link of its own kind (it names the reply email and
 * nothing else), made only for a page the widget may run on, and the site is named after that
 * page only then: a page URL the widget reports (a visitor can make one up) can't turn the
 * shop's mail into a way to, or a word for, another site.
 */
export function replyEmail(p: {
  claim: ReplyEmailClaim;
  to: string;
  pageUrl: string | null;
  replies: ConversationMessage[];
  settings: Settings;
  keys: Keyring;
  publicUrl: string;
  from: string;
}): Mail {
  // The page the visitor wrote on, if the widget may run there: a page URL is the widget's word.
  const page = URL.parse(p.pageUrl ?? '');
  const known = page !== null && mayUseMessenger(page.origin, p.publicUrl, p.settings);
  const site = (known ? page.hostname : new URL(p.publicUrl).hostname).replace(/^www\./, '');
  const link = known ? `${p.publicUrl}/c/${replyEmailToken.sign(p.keys, p.claim.id)}` : null;
  const several = p.replies.length > 1;
  const intro = `${site} answered your message${several ? ` (${p.replies.length} replies)` : ''}:`;
  const why = `You're getting this because you wrote to ${site} and weren't there when the ${several ? 'replies' : 'reply'} came.`;
  const text = [
    intro,
    p.replies.map((r) => r.body).join('\n\n---\n\n'),
    link ? `Answer in the conversation: ${link}` : `Answer on ${site}, in the chat where you wrote.`,
    why,
  ].join('\n\n');
  const html =
    '<!doctype html><html><head><meta charset="utf-8"></head>' +
    '<body style="margin:0;padding:24px;background:#f7f8fb;font:15px/1.5 system-ui,-apple-system,\'Segoe UI\',Roboto,Arial,sans-serif;color:#1f2330">' +
    '<div style="max-width:560px;margin:0 auto">' +
    `<p style="margin:0 0 16px">${escapeHtml(intro)}</p>` +
    p.replies
      .map((r) => `<div style="background:#fff;border:1px solid #e6e8f0;border-radius:12px;padding:12px 16px;margin:0 0 12px;white-space:pre-wrap">${escapeHtml(r.body)}</div>`)
      .join('') +
    (link
      ? `<p style="margin:20px 0"><a href="${escapeHtml(link)}" style="display:inline-block;background:#4338ca;color:#fff;text-decoration:none;padding:10px 18px;border-radius:8px;font-weight:600">Answer in the conversation</a></p>`
      : `<p style="margin:20px 0">Answer on ${escapeHtml(site)}, in the chat where you wrote.</p>`) +
    `<p style="margin:0;color:#6b7080;font-size:13px">${escapeHtml(why)}</p>` +
    '</div></body></html>';
  return {
    from: p.settings.defaultFrom ?? p.from,
    ...(p.settings.defaultReplyTo && { replyTo: p.settings.defaultReplyTo }),
    to: p.to,
    subject: several ? `New replies from ${site}` : `New reply from ${site}`,
    html,
    text,
    // RFC 3834: an automatic mail, which vacation responders must not answer.
    headers: { 'Auto-Submitted': 'auto-generated' },
    key: `reply-${p.claim.conversationId}-${p.claim.id}`,
    messageId: `<clicktrail.reply.${p.claim.id}.${p.claim.createdAt.toString(36)}@${new URL(p.publicUrl).hostname}>`,
  };
}
