import type { BotReason } from '../../api/types.ts';

/** Links of one recipient hit within this span are a scanner walking the mail, not a reader. */
export const BURST_MS = 5_000;
/** Clicks this close to a honeypot hit share its verdict. */
export const HONEYPOT_MS = 60_000;
const MAX_RECIPIENTS = 100_000;

interface Hit {
  linkId: number;
  at: number;
  honeypot: boolean;
}

export interface HistoryVerdict {
  reason: BotReason | null;
  /** Earlier clicks of this recipient to count as a machine's after all. */
  reclassify: { from: number; to: number; reason: BotReason } | null;
}

const NO_VERDICT: HistoryVerdict = Object.freeze({ reason: null, reclassify: null });

/**
 * Each recipient's clicks of the last minute, in memory: enough to see a burst over all
 * their links or a hit on the honeypot, and to take back the clicks that came with it.
 */
export class RecentHits {
  private readonly byRecipient = new Map<number, Hit[]>();

  judge(recipientId: number, hit: Hit, trackedLinks: number): HistoryVerdict {
    const cutoff = hit.at - HONEYPOT_MS;
    const earlier = this.byRecipient.get(recipientId);
    const hits = earlier ? earlier.filter((h) => h.at >= cutoff) : [];
    hits.push(hit);
    if (earlier) this.byRecipient.delete(recipientId); // re-insert: the map's order is least recently seen first
    this.byRecipient.set(recipientId, hits);
    if (this.byRecipient.size > MAX_RECIPIENTS) this.byRecipient.delete(this.byRecipient.keys().next().value!);

    if (hit.honeypot) {
      return { reason: 'honeypot', reclassify: { from: cutoff, to: hit.at, reason: 'honeypot' } };
    }
    if (hits.some((h) => h.honeypot)) return { reason: 'honeypot', reclassify: null };

    // "All of a recipient's links within a few seconds": with three links or more, hitting
    // all of them (or four, for long mails) that fast is not reading.
    if (trackedLinks >= 3) {
      const needed = Math.min(trackedLinks, 4);
      const burst = new Set(hits.filter((h) => h.at >= hit.at - BURST_MS).map((h) => h.linkId));
      if (burst.size >= needed) {
        return { reason: 'burst', reclassify: { from: hit.at - BURST_MS, to: hit.at, reason: 'burst' } };
      }
    }
    return NO_VERDICT;
  }
}
