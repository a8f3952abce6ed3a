import type { BotReason, ClickReasons, SkipReason, SuspectReason, UntrackedReason } from '../../api/types.ts';

/** What the team reads for each reason a click was set apart (README, "People and scanners"). */
const BOT: Record<BotReason, string> = {
  head: 'HEAD request',
  'bot-ua': 'bot user agent',
  prefetch: 'prefetch',
  'scanner-network': 'scanner network',
  'too-soon': 'too soon after delivery',
  burst: 'every link within a minute',
  early: 'within a minute of delivery',
  repeat: 'same link over and over',
  honeypot: 'hidden link',
  'apple-mpp': 'Apple Mail Privacy Protection',
};
const SUSPECT: Record<SuspectReason, string> = {
  burst: 'every link within a minute',
  early: 'within a minute of delivery',
};

/** "hidden link ×2, suspect: every link within a minute ×1"; '' when nothing was set apart. */
export function describeReasons(reasons: ClickReasons): string {
  const parts: string[] = [];
  for (const [reason, n] of Object.entries(reasons.bot)) if (n) parts.push(`${BOT[reason as BotReason] ?? reason} ×${n}`);
  for (const [reason, n] of Object.entries(reasons.suspect)) if (n) parts.push(`suspect: ${SUSPECT[reason as SuspectReason] ?? reason} ×${n}`);
  return parts.join(', ');
}

/** One person's reasons over all their links. */
export function sumReasons(all: readonly ClickReasons[]): ClickReasons {
  const sum: ClickReasons = { bot: {}, suspect: {} };
  for (const r of all) {
    for (const [k, n] of Object.entries(r.bot)) sum.bot[k as BotReason] = (sum.bot[k as BotReason] ?? 0) + (n ?? 0);
    for (const [k, n] of Object.entries(r.suspect)) sum.suspect[k as SuspectReason] = (sum.suspect[k as SuspectReason] ?? 0) + (n ?? 0);
  }
  return sum;
}

/** Why a link of a message is left as written (Message.links[].reason), as the composer shows it. */
export const UNTRACKED: Record<UntrackedReason, string> = {
  'not-http': 'not a web link (mailto:, tel:, #anchor, relative…)',
  'foreign-tag': 'its address holds another template language’s tag',
  'opt-out': 'data-clicktrail="off" on the link',
  'universal-link': 'its domain is on the universal-link list (the app opens it)',
  'tracking-off': 'click tracking was off when it was saved',
  unsubscribe: 'the recipient’s own unsubscribe link',
};

/** Why a send left a recipient out (SendResult.skips[].reason). */
export const SKIPPED: Record<SkipReason, string> = {
  unsubscribed: 'unsubscribed (on the suppression list)',
};
