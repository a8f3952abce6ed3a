import { LRUCache } from 'lru-cache';
import type { BotReason, SuspectReason } from '../../api/types.ts';

/**
 * Every link of a mail hit within this span is what a scanner does (Safe Links walks them a
 * few seconds apart, up to about a minute) and what a person opening links in tabs does too:
 * alone it makes the clicks suspect, with a second signal a machine's.
 */
export const BURST_MS = 60_000;
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
  /** Counted as a person's, but identifying nobody: one scanner-like pattern and nothing else to say machine. */
  suspect: SuspectReason | null;
  /** Earlier clicks of this recipient to count as a machine's after all. */
  reclassify: { from: number; to: number; reason: BotReason } | null;
}

/** What the request itself said: a verdict, or a hint that only counts beside a pattern. */
export interface RequestVerdict {
  reason: BotReason | null;
  /** A second signal (scanner network aside, which is a verdict): no Accept-Language, an old browser, headless. */
  hint: string | null;
  /** When the message was delivered to this recipient (null: never, a preview). */
  sentAt: number | null;
  /**
   * settings.earlyWindowSeconds: a hit this soon after delivery is what a gateway does, and a
   * quick reader too. Suspect alone, a machine's with a second signal.
   */
  earlyWindowMs: number;
}

const NO_VERDICT: HistoryVerdict = Object.freeze({ reason: null, suspect: null, reclassify: null });
const NO_REQUEST: RequestVerdict = Object.freeze({ reason: null, hint: null, sentAt: null, earlyWindowMs: 0 });

/**
 * Each recipient's last few clicks, in memory: enough to see a burst over their links, a
 * link requested over and over, or a hit on the honeypot, and to take back the clicks that
 * came with it. Work and memory per hit are bounded, whatever one recipient's link takes.
 */
export class RecentHits {
  // Least recently seen out first. Not a Map re-inserted on each hit: V8 keeps a deleted key's
  // entry in its bucket until the table is rebuilt, so one recipient hit over and over made each
  // lookup walk all its old entries (49 µs a hit after a few thousand).
  private readonly byRecipient = new LRUCache<number, Recipient>({ max: MAX_RECIPIENTS });

  /** `request`: what the request said alone, so a machine's hit is never taken for a person's to take back. */
  judge(recipientId: number, hit: Hit, trackedLinks: number, request: RequestVerdict = NO_REQUEST): HistoryVerdict {
    let r = this.byRecipient.get(recipientId);
    if (!r) this.byRecipient.set(recipientId, (r = { hits: [], honeypotAt: -Infinity, lastHumanAt: -Infinity, takenBackTo: -Infinity }));

    r.hits.push(hit);
    if (r.hits.length > KEPT_HITS) r.hits.shift();
    if (hit.honeypot) r.honeypotAt = hit.at;

    const verdict = this.verdict(r, hit, trackedLinks, request);
    // The latest, not the last judged: concurrent hits are judged in the order their lookups
    // end, not the order they came in.
    if (request.reason === null && verdict.reason === null) r.lastHumanAt = Math.max(r.lastHumanAt, hit.at);
    if (!verdict.reclassify) return verdict;
    // Only when there is a person's click in the span left to take back: a scanner still
    // hammering after its burst does not make the writer look again each time. A honeypot hit
    // always: the clicks it takes back may be another node's, which this one never saw.
    const nothingToTakeBack = r.lastHumanAt < verdict.reclassify.from || r.lastHumanAt <= r.takenBackTo;
    if (verdict.reason !== 'honeypot' && nothingToTakeBack) return { ...verdict, reclassify: null };
    r.takenBackTo = verdict.reclassify.to;
    return verdict;
  }

  private verdict(r: Recipient, hit: Hit, trackedLinks: number, request: RequestVerdict): HistoryVerdict {
    // Forward too: another node's clicks of this recipient may be in the database already.
    if (hit.honeypot) return { reason: 'honeypot', suspect: null, reclassify: { from: hit.at - HONEYPOT_MS, to: hit.at + HONEYPOT_MS, reason: 'honeypot' } };
    if (hit.at - r.honeypotAt <= HONEYPOT_MS) return { reason: 'honeypot', suspect: null, reclassify: null };

    let sameLink = 0;
    for (const h of r.hits) if (h.linkId === hit.linkId && h.at >= hit.at - REPEAT_MS) sameLink++;
    if (sameLink >= REPEAT_HITS) {
      // Up to a person's click that came in after this hit but was judged before it, too.
      return { reason: 'repeat', suspect: null, reclassify: { from: hit.at - REPEAT_MS, to: Math.max(hit.at, r.lastHumanAt), reason: 'repeat' } };
    }

    // "All of a recipient's links within a minute": with three links or more, all of them (or
    // four, for long mails). A person opening a mail's links in tabs does it too: suspect,
    // unless the request gives a second reason, and then the walk's earlier hits go with it.
    if (trackedLinks >= 3) {
      const needed = Math.min(trackedLinks, 4);
      const links: number[] = [];
      let first = hit.at;
      for (const h of r.hits) {
        if (h.at < hit.at - BURST_MS || h.honeypot) continue;
        if (!links.includes(h.linkId)) links.push(h.linkId);
        first = Math.min(first, h.at);
      }
      if (links.length >= needed) {
        return request.hint
          ? { reason: 'burst', suspect: null, reclassify: { from: first, to: Math.max(hit.at, r.lastHumanAt), reason: 'burst' } }
          : { reason: null, suspect: 'burst', reclassify: null };
      }
    }
    if (request.sentAt !== null && hit.at - request.sentAt < request.earlyWindowMs) {
      return request.hint ? { reason: 'early', suspect: null, reclassify: null } : { reason: null, suspect: 'early', reclassify: null };
    }
    return NO_VERDICT;
  }

  /** Hits kept for a recipient: bounded, whatever they requested. */
  kept(recipientId: number): number {
    return this.byRecipient.peek(recipientId)?.hits.length ?? 0;
  }
}
