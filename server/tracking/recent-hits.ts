import type { BotReason } from '../../api/types.ts';

/** Links of one recipient hit within this span are a scanner walking the mail, not a reader. */
export const BURST_MS = 5_000;
/** Clicks this close to a honeypot hit share its verdict. */
export const HONEYPOT_MS = 60_000;
/**
 * One link hit this many times within REPEAT_MS by one recipient is a machine: a person may
 * double-click or reload, not keep requesting the same link several times a second.
 */
export const REPEAT_HITS = 5;
export const REPEAT_MS = 2_000;
/**
 * Hits kept per recipient. Enough for every rule (a burst needs four links, a repeat five
 * hits), and a fixed cost per hit however often one link is requested.
 */
export const KEPT_HITS = 8;
const MAX_RECIPIENTS = 100_000;

interface Hit {
  linkId: number;
  at: number;
  honeypot: boolean;
}

interface Recipient {
  /** The last KEPT_HITS hits, oldest first. */
  hits: Hit[];
  /** Kept apart from `hits` so a flood of other hits cannot push it out. */
  honeypotAt: number;
  /** The last hit judged a person's: is there anything left to take back? */
  lastHumanAt: number;
  /** Hits up to here were already taken back. */
  takenBackTo: number;
}

export interface HistoryVerdict {
  reason: BotReason | null;
  /** Earlier clicks of this recipient to count as a machine's after all. */
  reclassify: { from: number; to: number; reason: BotReason } | null;
}

const NO_VERDICT: HistoryVerdict = Object.freeze({ reason: null, reclassify: null });

/**
 * Each recipient's last few clicks, in memory: enough to see a burst over their links, a
 * link requested over and over, or a hit on the honeypot, and to take back the clicks that
 * came with it. Work and memory per hit are bounded, whatever one recipient's link takes.
 */
export class RecentHits {
  private readonly byRecipient = new Map<number, Recipient>();

  /** `reason`: the verdict from the request alone, so a machine's hit is never taken for a person's to take back. */
  judge(recipientId: number, hit: Hit, trackedLinks: number, reason: BotReason | null = null): HistoryVerdict {
    let r = this.byRecipient.get(recipientId);
    if (r) this.byRecipient.delete(recipientId); // re-insert: the map's order is least recently seen first
    else r = { hits: [], honeypotAt: -Infinity, lastHumanAt: -Infinity, takenBackTo: -Infinity };
    this.byRecipient.set(recipientId, r);
    if (this.byRecipient.size > MAX_RECIPIENTS) this.byRecipient.delete(this.byRecipient.keys().next().value!);

    r.hits.push(hit);
    if (r.hits.length > KEPT_HITS) r.hits.shift();
    if (hit.honeypot) r.honeypotAt = hit.at;

    const verdict = this.verdict(r, hit, trackedLinks);
    if (reason === null && verdict.reason === null) r.lastHumanAt = hit.at;
    if (!verdict.reclassify) return verdict;
    // Only when there is a person's click in the span left to take back: a scanner still
    // hammering after its burst does not make the writer look again each time.
    if (r.lastHumanAt < verdict.reclassify.from || r.lastHumanAt <= r.takenBackTo) return { reason: verdict.reason, reclassify: null };
    r.takenBackTo = verdict.reclassify.to;
    return verdict;
  }

  private verdict(r: Recipient, hit: Hit, trackedLinks: number): HistoryVerdict {
    if (hit.honeypot) return { reason: 'honeypot', reclassify: { from: hit.at - HONEYPOT_MS, to: hit.at, reason: 'honeypot' } };
    if (hit.at - r.honeypotAt <= HONEYPOT_MS) return { reason: 'honeypot', reclassify: null };

    let sameLink = 0;
    for (const h of r.hits) if (h.linkId === hit.linkId && h.at >= hit.at - REPEAT_MS) sameLink++;
    if (sameLink >= REPEAT_HITS) {
      return { reason: 'repeat', reclassify: { from: hit.at - REPEAT_MS, to: hit.at, reason: 'repeat' } };
    }

    // "All of a recipient's links within a few seconds": with three links or more, hitting
    // all of them (or four, for long mails) that fast is not reading.
    if (trackedLinks >= 3) {
      const needed = Math.min(trackedLinks, 4);
      const links: number[] = [];
      for (const h of r.hits) if (h.at >= hit.at - BURST_MS && !links.includes(h.linkId)) links.push(h.linkId);
      if (links.length >= needed) {
        return { reason: 'burst', reclassify: { from: hit.at - BURST_MS, to: hit.at, reason: 'burst' } };
      }
    }
    return NO_VERDICT;
  }

  /** Hits kept for a recipient: bounded, whatever they requested. */
  kept(recipientId: number): number {
    return this.byRecipient.get(recipientId)?.hits.length ?? 0;
  }
}
