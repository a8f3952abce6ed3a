import Database from 'better-sqlite3';
import type { SuspectReason } from '../../../api/types.ts';
import { HitRefused, type TrackingWrite } from '../store.ts';
import { bump, NEIGHBOUR_MS, type Delta } from '../rows.ts';
import type { Statements } from './store.ts';

const HOUR = 3_600_000;


/** A click_reasons row's key: recipient, link, message, verdict, reason. */
type ReasonKey = `${number}:${number}:${number}:${'bot' | 'suspect'}:${string}`;

/** Errors about the write itself. Any other (busy, locked, read-only, I/O, full, corrupt) is the database's: waited for, never set aside. */
const REFUSES_THE_WRITE = /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/;
export function refusesTheWrite(err: unknown): boolean {
  if (err instanceof HitRefused) return true;
  if (err instanceof Database.SqliteError) return REFUSES_THE_WRITE.test(err.code);
  // A value SQLite cannot bind: the line's shape. (A closed connection throws a TypeError too,
  // but at BEGIN, before any write: that stays the whole batch's failure.)
  return err instanceof TypeError || err instanceof RangeError;
}

/**
 * A batch of the click journal's writes in the open transaction: each click or open, and the
 * counters beside it. Per-link, per-message, per-hour and per-reason deltas are summed over the
 * batch and written once per key.
 */
export function applyClicks(s: Statements, batch: TrackingWrite[]): void {
  const links = new Map<number, Delta>();
  const clickTotals = new Map<number, Delta>();
  const openTotals = new Map<number, Delta>();
  const hours = new Map<string, { human: number; bot: number }>();
  const reasons = new Map<ReasonKey, number>();
  const reason = (w: { recipientId: number; messageId: number }, linkId: number, verdict: 'bot' | 'suspect', why: string, n: number) => {
    const key: ReasonKey = `${w.recipientId}:${linkId}:${w.messageId}:${verdict}:${why}`;
    reasons.set(key, (reasons.get(key) ?? 0) + n);
  };
  const hourOf = (messageId: number, at: number) => {
    const key = `${messageId}:${Math.floor(at / HOUR) * HOUR}`;
    let h = hours.get(key);
    if (!h) hours.set(key, (h = { human: 0, bot: 0 }));
    return h;
  };

  // Alone, a node's own judgment saw every hit: the database is asked only when there are others.
  let severalNodes: boolean | undefined;
  for (const w of batch) {
    if (w.kind === 'click') {
      // The node that answered judged it on its own hits; the database has every node's.
      const shared = w.botReason === null && (severalNodes ??= (s.journal.nodes.get() as { n: number }).n > 1) ? sharedVerdict(s, w) : null;
      // Every link within a minute, and this request gave a second signal: a machine's, as on one node.
      const botReason = shared === 'honeypot' ? 'honeypot' : shared === 'burst' && w.hint ? 'burst' : w.botReason;
      const human = botReason === null;
      const suspect = human ? (w.suspectReason ?? (shared === 'burst' ? 'burst' : null)) : null;
      s.clicks.insert.run(w.linkId, w.recipientId, w.messageId, w.at, botReason, suspect, w.ip, w.userAgent);
      const humanAt = human ? w.at : null;
      const pairHumans = s.counts.pair.pluck().get(w.recipientId, w.linkId, w.messageId, human ? 1 : 0, human ? 0 : 1, suspect ? 1 : 0, humanAt, humanAt) as number;
      if (botReason) reason(w, w.linkId, 'bot', botReason, 1);
      if (suspect) {
        reason(w, w.linkId, 'suspect', suspect, 1);
        bump(links, w.linkId).suspect++;
        bump(clickTotals, w.messageId).suspect++;
      }
      if (human) {
        bump(links, w.linkId).total++;
        bump(clickTotals, w.messageId).total++;
        // A pair clicked by a person before means the recipient was counted a unique clicker
        // then (and is there: its pairs go with it): only a pair's first human click asks.
        if (pairHumans === 1) {
          bump(links, w.linkId).unique++;
          const { human_clicks } = recipientRow<{ human_clicks: number }>(s.recipients.humanClicks.get({ id: w.recipientId }), w.recipientId);
          if (human_clicks === 1) bump(clickTotals, w.messageId).unique++;
        }
        hourOf(w.messageId, w.at).human++;
      } else {
        bump(links, w.linkId).bot++;
        bump(clickTotals, w.messageId).bot++;
        hourOf(w.messageId, w.at).bot++;
      }
    } else if (w.kind === 'open') {
      s.opens.insert.run(w.recipientId, w.messageId, w.at, w.botReason, w.ip, w.userAgent);
      if (w.botReason === null) {
        const { human_opens } = recipientRow<{ human_opens: number }>(s.recipients.countOpen.get(w.at, w.recipientId), w.recipientId);
        bump(openTotals, w.messageId).total++;
        if (human_opens === 1) bump(openTotals, w.messageId).unique++;
      } else {
        bump(openTotals, w.messageId).bot++;
      }
    } else {
      const moved = s.clicks.toTakeBack.all(w.recipientId, w.from, w.to) as { link_id: number; message_id: number; at: number; suspect_reason: SuspectReason | null }[];
      s.clicks.takeBack.run(w.reason, w.recipientId, w.from, w.to);
      const perLink = new Map<number, { n: number; suspect: number }>();
      for (const m of moved) {
        const l = perLink.get(m.link_id) ?? { n: 0, suspect: 0 };
        perLink.set(m.link_id, l);
        l.n++;
        if (m.suspect_reason) {
          l.suspect++;
          reason({ recipientId: w.recipientId, messageId: m.message_id }, m.link_id, 'suspect', m.suspect_reason, -1);
        }
        reason({ recipientId: w.recipientId, messageId: m.message_id }, m.link_id, 'bot', w.reason, 1);
        const h = hourOf(m.message_id, m.at);
        h.human--;
        h.bot++;
      }
      for (const [linkId, { n, suspect }] of perLink) {
        const messageId = moved[0]!.message_id;
        const { human } = s.counts.pairToBot.get({ n, suspect, recipient: w.recipientId, link: linkId }) as { human: number };
        const link = bump(links, linkId);
        link.total -= n;
        link.bot += n;
        link.suspect -= suspect;
        if (human === 0) link.unique--;
        const totals = bump(clickTotals, messageId);
        totals.total -= n;
        totals.bot += n;
        totals.suspect -= suspect;
        const { human_clicks } = recipientRow<{ human_clicks: number }>(s.recipients.humanClicks.get({ id: w.recipientId }), w.recipientId);
        if (human_clicks === 0) totals.unique--;
      }
    }
  }

  for (const [id, d] of links) s.counts.link.run(id, d.total, d.unique, d.bot, d.suspect);
  for (const [id, d] of clickTotals) s.counts.messageClicks.run(id, d.total, d.unique, d.bot, d.suspect);
  for (const [key, n] of reasons) {
    const [recipientId, linkId, messageId, verdict, why] = key.split(':');
    s.counts.reason.run(Number(recipientId), Number(linkId), Number(messageId), verdict, why, n);
  }
  for (const [id, d] of openTotals) s.counts.messageOpens.run(id, d.total, d.unique, d.bot);
  for (const [key, h] of hours) {
    const [messageId, hour] = key.split(':').map(Number);
    s.counts.hour.run(messageId, hour, h.human, h.bot);
  }
}

/** A hit names a recipient the database does not have (it was replaced, or the recipient removed). */
function recipientRow<T>(row: unknown, id: number): T {
  if (row === undefined) throw new HitRefused(`no recipient ${id}`);
  return row as T;
}

/**
 * What every node's hits of this recipient say of a click its own node took for a person's:
 * the honeypot hit within a minute either side of it ('honeypot'), or every link of the mail
 * within the minute before it ('burst', suspect: the second signal, if any, was the other
 * node's to see). Needed when a recipient's hits land on several nodes (workers, machines).
 */
function sharedVerdict(s: Statements, w: { recipientId: number; messageId: number; linkId: number; at: number }): 'honeypot' | 'burst' | null {
  const n = s.clicks.neighbours.get({ recipient: w.recipientId, message: w.messageId, link: w.linkId, at: w.at, window: NEIGHBOUR_MS }) as {
    honeypot: number | null;
    links: number;
    tracked: number;
  };
  if (n.honeypot) return 'honeypot';
  return n.tracked >= 3 && n.links + 1 >= Math.min(n.tracked, 4) ? 'burst' : null;
}
