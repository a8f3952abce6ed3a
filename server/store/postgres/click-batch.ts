import { LRUCache } from 'lru-cache';
import type { SuspectReason } from '../../../api/types.ts';
import { HitRefused, type TrackingWrite } from '../store.ts';
import { bump, NEIGHBOUR_MS, type Delta } from '../rows.ts';
import { arrayLiteral, copyRow, type CopyIn, type Run, type Statements } from './database.ts';

const HOUR = 3_600_000;

type Click = Extract<TrackingWrite, { kind: 'click' }>;
type Open = Extract<TrackingWrite, { kind: 'open' }>;
type Reclassify = Extract<TrackingWrite, { kind: 'reclassify' }>;


/** A click_reasons row: its key is recipient, link, verdict and reason; the message is the first write's. */
interface ReasonRow {
  recipientId: number;
  linkId: number;
  messageId: number;
  verdict: 'bot' | 'suspect';
  reason: string;
  n: number;
}

/**
 * The additive counters of a batch (per link, per message, per hour, per reason), summed in
 * memory and written once per key at the end of the transaction. What decides uniqueness is
 * not here: it comes back from the database, run by run (pairs and recipients).
 */
export class Counters {
  readonly links = new Map<number, Delta>();
  readonly clicks = new Map<number, Delta>();
  readonly opens = new Map<number, Delta>();
  readonly hours = new Map<string, { messageId: number; hour: number; human: number; bot: number }>();
  readonly reasons = new Map<string, ReasonRow>();
  private lastHour: { messageId: number; hour: number; human: number; bot: number } | null = null;

  reason(recipientId: number, linkId: number, messageId: number, verdict: 'bot' | 'suspect', reason: string, n: number): void {
    const key = JSON.stringify([recipientId, linkId, verdict, reason]);
    const row = this.reasons.get(key);
    if (row) row.n += n;
    else this.reasons.set(key, { recipientId, linkId, messageId, verdict, reason, n });
  }

  hour(messageId: number, at: number) {
    const hour = Math.floor(at / HOUR) * HOUR;
    // A run's hits are mostly of one message and hour: the last one asked, without a key made for it.
    const last = this.lastHour;
    if (last && last.messageId === messageId && last.hour === hour) return last;
    const key = `${messageId}:${hour}`;
    let h = this.hours.get(key);
    if (!h) this.hours.set(key, (h = { messageId, hour, human: 0, bot: 0 }));
    return (this.lastHour = h);
  }

  /** Adds another batch part's counters (a part that was written: commitEach's savepoints). */
  merge(other: Counters): void {
    for (const [from, into] of [
      [other.links, this.links],
      [other.clicks, this.clicks],
      [other.opens, this.opens],
    ] as const) {
      for (const [key, d] of from) {
        const t = bump(into, key);
        t.total += d.total;
        t.unique += d.unique;
        t.bot += d.bot;
        t.suspect += d.suspect;
      }
    }
    for (const h of other.hours.values()) {
      const t = this.hour(h.messageId, h.hour);
      t.human += h.human;
      t.bot += h.bot;
    }
    for (const r of other.reasons.values()) this.reason(r.recipientId, r.linkId, r.messageId, r.verdict, r.reason, r.n);
  }
}

/** What the ingest keeps of links, the most recent ones: they never change once made. */
export class LinkFacts {
  private readonly honeypot = new LRUCache<number, boolean>({ max: 100_000 });
  private readonly tracked = new LRUCache<number, number>({ max: 20_000 });

  /** Whether each link is the honeypot; a link the database does not have is left out. */
  async honeypots(run: Run, s: Statements, ids: Iterable<number>): Promise<Map<number, boolean>> {
    const wanted = [...new Set(ids)].filter((id) => Number.isSafeInteger(id));
    const known = new Map<number, boolean>();
    const missing: number[] = [];
    for (const id of wanted) {
      const h = this.honeypot.get(id);
      if (h === undefined) missing.push(id);
      else known.set(id, h);
    }
    if (missing.length > 0) {
      const { rows } = await run(s.links.targets, [missing]);
      for (const r of rows as { id: number; message_id: number; honeypot: number; tracked_links: number }[]) {
        this.honeypot.set(r.id, r.honeypot === 1);
        known.set(r.id, r.honeypot === 1);
        if (r.tracked_links > 0) this.tracked.set(r.message_id, r.tracked_links);
      }
    }
    return known;
  }

  /** How many tracked links each message has, the honeypot aside: what a burst needs (0: none, no such message, or not an email). */
  async trackedLinks(run: Run, s: Statements, messageIds: Iterable<number>): Promise<(messageId: number) => number> {
    const counts = new Map<number, number>();
    const missing: number[] = [];
    for (const id of new Set(messageIds)) {
      if (!Number.isSafeInteger(id)) continue;
      const n = this.tracked.get(id);
      if (n === undefined) missing.push(id);
      else counts.set(id, n);
    }
    if (missing.length > 0) {
      const { rows } = await run(s.links.trackedOfMessages, [missing]);
      // A message's links are made with it: a count once seen is final (none is asked again, cheaply).
      for (const r of rows as { message_id: number; tracked: number }[]) {
        this.tracked.set(r.message_id, r.tracked);
        counts.set(r.message_id, r.tracked);
      }
    }
    return (id) => counts.get(id) ?? 0;
  }
}

/** An id a journal line spelled as its digits ("5"), which the database and SQLite take for the number. */
function spelledNumber(id: unknown): boolean {
  return typeof id === 'string' && String(Number(id)) === id;
}

function asNumber(id: unknown): unknown {
  return spelledNumber(id) ? Number(id) : id;
}

/**
 * The write with its ids as numbers where a journal line spelled one as its digits: the
 * batch's maps key a row once however it was spelled, so no statement writes one row twice
 * (which PostgreSQL refuses for the whole statement).
 */
function withNumberIds<W extends TrackingWrite>(w: W): W {
  const ids = w as { recipientId: unknown; linkId?: unknown; messageId?: unknown };
  if (!spelledNumber(ids.recipientId) && !spelledNumber(ids.linkId) && !spelledNumber(ids.messageId)) return w;
  return {
    ...w,
    recipientId: asNumber(ids.recipientId),
    ...('linkId' in w ? { linkId: asNumber(ids.linkId) } : {}),
    ...('messageId' in w ? { messageId: asNumber(ids.messageId) } : {}),
  };
}

/** Errors about the write itself: data exceptions (SQLSTATE class 22) and constraint violations (23). Any other is the database's: waited for, never set aside. */
export function refusesTheWrite(err: unknown): boolean {
  if (err instanceof HitRefused) return true;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return true;
  // A value the driver cannot send: the line's shape.
  return err instanceof TypeError || err instanceof RangeError;
}

/**
 * Past this many recipients a batch takes one lock over them all: a lock each would overflow
 * PostgreSQL's lock table (max_locks_per_transaction × connections: about 7,800 with the
 * defaults), and a backlog's batch would then fail on every try, its journal growing.
 */
export const MAX_RECIPIENT_LOCKS = 2_000;

/**
 * Locks the recipients the batch names, in id order, to the end of the transaction, then
 * tells whether other nodes write into this database too. Batches of several nodes about one
 * recipient take turns, so each judges its clicks on the other's committed hits, whichever
 * comes first (SQLite has one writer at a time for the whole file); counted after the locks,
 * a node that was first found alone sees the one it waited for. Alone, a node's own judgment
 * saw every hit: no shared verdicts (as ../sqlite/click-batch.ts). A batch of more than
 * MAX_RECIPIENT_LOCKS takes the lock over all recipients instead, which every batch shares.
 */
export async function severalNodes(run: Run, s: Statements, batch: TrackingWrite[]): Promise<boolean> {
  const ids = [...new Set(batch.map((w) => withNumberIds(w).recipientId).filter((id) => Number.isSafeInteger(id)))].sort((a, b) => a - b);
  if (ids.length > MAX_RECIPIENT_LOCKS) await run(s.clicks.lockAllRecipients);
  else if (ids.length > 0) await run(s.clicks.lockRecipients, [arrayLiteral(ids)]);
  const { rows } = await run(s.journal.nodes);
  return (rows[0] as { n: number }).n > 1;
}

/**
 * A batch of the click journal's writes in the open transaction, with the semantics of
 * ../sqlite/click-batch.ts write for write, in bulk: the clicks and opens between two
 * reclassifications are a run, written with one statement per table (the hits by COPY, the
 * counters as arrays, unnest). Who is a unique clicker depends on what each pair and recipient
 * had before the run: the pairs' upsert returns those whose human count after is the run's own,
 * and a recipient's human clicks are the sum of its pairs', read after the run for those whose
 * pairs in it had none before. A reclassification reads what the runs before it wrote, so each
 * run is in the database before the next step; the additive counters go into `counters`.
 */
export async function applyClicks(
  run: Run,
  copyIn: CopyIn,
  s: Statements,
  facts: LinkFacts,
  batch: TrackingWrite[],
  counters: Counters,
  shared: boolean,
): Promise<void> {
  let hits: (Click | Open)[] = [];
  for (const line of batch) {
    const w = withNumberIds(line);
    if (w.kind === 'click' || w.kind === 'open') {
      hits.push(w);
      continue;
    }
    await applyRun(run, copyIn, s, facts, hits, counters, shared);
    hits = [];
    await reclassify(run, s, w as Reclassify, counters);
  }
  await applyRun(run, copyIn, s, facts, hits, counters, shared);
}

/**
 * A statement sent, and the JavaScript of the next one done while the database runs it: one
 * statement at a time on the connection, and neither side waits for the other's work. A
 * failure is the caller's once it awaits (its rejection is never an unhandled one meanwhile).
 */
function sent<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** A run's clicks of one recipient on one link: a recipient_link_counts row's part of the run. */
interface Pair {
  recipient: number;
  link: number;
  message: number;
  human: number;
  bot: number;
  suspect: number;
  first: number | null;
  last: number | null;
  /** The pair had no human click before the run (as the pairs' upsert tells). */
  firstHuman: boolean;
}

/** A run's hits of one recipient. */
interface Person {
  pairs: Pair[];
  /** Human clicks and opens in the run. */
  clicks: number;
  opens: number;
  openedAt: number | null;
  /** The messages of the first human click and open, which a unique one is counted for. */
  clickMessage: number;
  openMessage: number;
}

async function applyRun(run: Run, copyIn: CopyIn, s: Statements, facts: LinkFacts, hits: (Click | Open)[], counters: Counters, shared: boolean): Promise<void> {
  if (hits.length === 0) return;
  const clicks = hits.filter((w): w is Click => w.kind === 'click');
  const opens = hits.filter((w): w is Open => w.kind === 'open');
  const verdicts = shared ? await sharedVerdicts(run, s, facts, clicks) : null;
  // Which of the run's recipients the database does not have, read while the run is made ready
  // (of every hit: only a human one is refused for it, after the writes, as SQLite refuses it).
  const missingRead = sent(run(s.recipients.missing, [arrayLiteral([...new Set(hits.map((w) => w.recipientId))])]));

  const people = new Map<number, Person>();
  const pairs: Pair[] = [];
  const person = (w: Click | Open) => {
    let p = people.get(w.recipientId);
    if (!p) people.set(w.recipientId, (p = { pairs: [], clicks: 0, opens: 0, openedAt: null, clickMessage: w.messageId, openMessage: w.messageId }));
    return p;
  };

  let clickRows = '';
  for (let i = 0; i < clicks.length; i++) {
    const w = clicks[i]!;
    // The node that answered judged it on its own hits; the database has every node's.
    const shared = verdicts ? verdicts[i]! : null;
    // Every link within a minute, and this request gave a second signal: a machine's, as on one node.
    const botReason = shared === 'honeypot' ? 'honeypot' : shared === 'burst' && w.hint ? 'burst' : w.botReason;
    const human = botReason === null;
    const suspect = human ? (w.suspectReason ?? (shared === 'burst' ? 'burst' : null)) : null;
    clickRows += copyRow([w.linkId, w.recipientId, w.messageId, w.at, botReason, suspect, w.ip, w.userAgent]);

    const r = person(w);
    // A recipient clicks few links of a mail: a look along them, no key made.
    let pair: Pair | undefined;
    for (const p of r.pairs) if (p.link === w.linkId) pair = p;
    if (!pair) {
      pair = { recipient: w.recipientId, link: w.linkId, message: w.messageId, human: 0, bot: 0, suspect: 0, first: null, last: null, firstHuman: false };
      r.pairs.push(pair);
      pairs.push(pair);
    }
    if (botReason) counters.reason(w.recipientId, w.linkId, w.messageId, 'bot', botReason, 1);
    if (suspect) {
      pair.suspect++;
      counters.reason(w.recipientId, w.linkId, w.messageId, 'suspect', suspect, 1);
      bump(counters.links, w.linkId).suspect++;
      bump(counters.clicks, w.messageId).suspect++;
    }
    if (human) {
      pair.human++;
      pair.first ??= w.at;
      pair.last = w.at;
      bump(counters.links, w.linkId).total++;
      bump(counters.clicks, w.messageId).total++;
      if (r.clicks++ === 0) r.clickMessage = w.messageId;
      counters.hour(w.messageId, w.at).human++;
    } else {
      pair.bot++;
      bump(counters.links, w.linkId).bot++;
      bump(counters.clicks, w.messageId).bot++;
      counters.hour(w.messageId, w.at).bot++;
    }
  }

  const missing = new Set(((await missingRead).rows as { id: number }[]).map((r) => r.id));
  // The clicks go in while the opens and the counters are made ready.
  const clicksIn = clicks.length > 0 ? sent(copyIn(s.clicks.copy, clickRows)) : null;
  let openRows = '';
  for (const w of opens) {
    openRows += copyRow([w.recipientId, w.messageId, w.at, w.botReason, w.ip, w.userAgent]);
    if (w.botReason === null) {
      const r = person(w);
      if (r.opens++ === 0) {
        r.openMessage = w.messageId;
        r.openedAt = w.at;
      }
      bump(counters.opens, w.messageId).total++;
    } else {
      bump(counters.opens, w.messageId).bot++;
    }
  }
  const opensIn = async () => {
    await clicksIn;
    if (opens.length > 0) await copyIn(s.opens.copy, openRows);
  };
  const hitsIn = sent(opensIn());

  // In key order, as every node does: two nodes' batches lock shared rows in the same order.
  pairs.sort((a, b) => a.recipient - b.recipient || a.link - b.link);
  const pairValues = [
    pairs.map((p) => p.recipient),
    pairs.map((p) => p.link),
    pairs.map((p) => p.message),
    pairs.map((p) => p.human),
    pairs.map((p) => p.bot),
    pairs.map((p) => p.suspect),
    pairs.map((p) => p.first),
    pairs.map((p) => p.last),
  ].map(arrayLiteral);
  await hitsIn;
  const pairsIn = pairs.length > 0 ? sent(run(s.counts.pair, pairValues)) : null;
  const openers: number[] = [];
  people.forEach((r, id) => r.opens > 0 && openers.push(id));
  openers.sort((a, b) => a - b);
  const openValues = [openers, openers.map((id) => people.get(id)!.opens), openers.map((id) => people.get(id)!.openedAt)].map(arrayLiteral);

  for (const a of pairsIn ? ((await pairsIn).rows as { recipient_id: number; link_id: number }[]) : []) {
    const pair = people.get(a.recipient_id)!.pairs.find((p) => p.link === a.link_id)!;
    pair.firstHuman = true;
    bump(counters.links, pair.link).unique++;
  }
  // A hit names a recipient the database does not have (it was replaced, or the recipient removed).
  people.forEach((r, id) => {
    if ((r.clicks > 0 || r.opens > 0) && missing.has(id)) throw new HitRefused(`no recipient ${id}`);
  });
  // A recipient's human clicks are the sum of its pairs': one whose pairs in the run had none
  // before may have had some on another link. Its lock (severalNodes) keeps every other node's
  // batch of it out until this one commits, so the sum is of every click but the run's own.
  const maybeFirst: number[] = [];
  people.forEach((r, id) => r.clicks > 0 && r.pairs.every((p) => p.human === 0 || p.firstHuman) && maybeFirst.push(id));
  if (maybeFirst.length > 0) {
    const { rows } = await run(s.counts.humanClicksOf, [arrayLiteral(maybeFirst)]);
    // Its human clicks are the run's own: its first click is in it (SQLite: the count is 1 after it).
    for (const a of rows as { recipient_id: number; human_clicks: number }[]) {
      const r = people.get(a.recipient_id)!;
      if (a.human_clicks === r.clicks) bump(counters.clicks, r.clickMessage).unique++;
    }
  }
  if (openers.length > 0) {
    const { rows } = await run(s.recipients.countOpens, openValues);
    for (const { id } of rows as { id: number }[]) bump(counters.opens, people.get(id)!.openMessage).unique++;
  }
}

/**
 * What every node's hits of a recipient say of each click its own node took for a person's
 * (../sqlite/click-batch.ts sharedVerdict, for a whole run): the honeypot hit within a minute
 * either side of it ('honeypot'), or every link of the mail within the minute before it
 * ('burst'). One read of the recipients' hits around the run; the run's own clicks join them
 * in journal order, as they would one insert at a time.
 */
async function sharedVerdicts(run: Run, s: Statements, facts: LinkFacts, clicks: Click[]): Promise<('honeypot' | 'burst' | null)[]> {
  const verdicts: ('honeypot' | 'burst' | null)[] = clicks.map(() => null);
  const windows = new Map<number, { lo: number; hi: number }>();
  for (const w of clicks) {
    if (w.botReason !== null || !Number.isSafeInteger(w.recipientId) || !Number.isSafeInteger(w.at)) continue;
    const win = windows.get(w.recipientId);
    if (!win) windows.set(w.recipientId, { lo: w.at - NEIGHBOUR_MS, hi: w.at + NEIGHBOUR_MS });
    else {
      win.lo = Math.min(win.lo, w.at - NEIGHBOUR_MS);
      win.hi = Math.max(win.hi, w.at + NEIGHBOUR_MS);
    }
  }
  if (windows.size === 0) return verdicts;

  const ids = [...windows.keys()];
  const { rows } = await run(s.clicks.neighbours, [ids, ids.map((id) => windows.get(id)!.lo), ids.map((id) => windows.get(id)!.hi)].map(arrayLiteral));
  const seen = new Map<number, { linkId: number; at: number; honeypot: boolean }[]>();
  for (const r of rows as { recipient_id: number; link_id: number; at: number; honeypot: number }[]) {
    let list = seen.get(r.recipient_id);
    if (!list) seen.set(r.recipient_id, (list = []));
    list.push({ linkId: r.link_id, at: r.at, honeypot: r.honeypot === 1 });
  }
  const honeypot = await facts.honeypots(run, s, clicks.filter((w) => windows.has(w.recipientId)).map((w) => w.linkId));
  const tracked = await facts.trackedLinks(run, s, clicks.filter((w) => w.botReason === null && windows.has(w.recipientId)).map((w) => w.messageId));

  clicks.forEach((w, i) => {
    if (!windows.has(w.recipientId)) return;
    const list = seen.get(w.recipientId) ?? [];
    if (w.botReason === null && Number.isSafeInteger(w.at)) {
      if (list.some((h) => h.honeypot && h.at >= w.at - NEIGHBOUR_MS && h.at <= w.at + NEIGHBOUR_MS)) verdicts[i] = 'honeypot';
      else {
        const links = new Set(list.filter((h) => !h.honeypot && h.linkId !== w.linkId && h.at >= w.at - NEIGHBOUR_MS && h.at <= w.at).map((h) => h.linkId)).size;
        const n = tracked(w.messageId);
        if (n >= 3 && links + 1 >= Math.min(n, 4)) verdicts[i] = 'burst';
      }
    }
    // In the database from here on, for the clicks after it (a link it does not have joins nothing there).
    const isHoneypot = honeypot.get(w.linkId);
    if (isHoneypot !== undefined) {
      list.push({ linkId: w.linkId, at: w.at, honeypot: isHoneypot });
      seen.set(w.recipientId, list);
    }
  });
  return verdicts;
}

/** Human clicks of a recipient in [from, to] turn out to have been a machine's: as ../sqlite/click-batch.ts does, statement for statement. */
async function reclassify(run: Run, s: Statements, w: Reclassify, counters: Counters): Promise<void> {
  const { rows: moved } = (await run(s.clicks.toTakeBack, [w.recipientId, w.from, w.to])) as {
    rows: { link_id: number; message_id: number; at: number; suspect_reason: SuspectReason | null }[];
  };
  await run(s.clicks.takeBack, [w.reason, w.recipientId, w.from, w.to]);
  const perLink = new Map<number, { n: number; suspect: number }>();
  for (const m of moved) {
    const l = perLink.get(m.link_id) ?? { n: 0, suspect: 0 };
    perLink.set(m.link_id, l);
    l.n++;
    if (m.suspect_reason) {
      l.suspect++;
      counters.reason(w.recipientId, m.link_id, m.message_id, 'suspect', m.suspect_reason, -1);
    }
    counters.reason(w.recipientId, m.link_id, m.message_id, 'bot', w.reason, 1);
    const h = counters.hour(m.message_id, m.at);
    h.human--;
    h.bot++;
  }
  for (const [linkId, { n, suspect }] of perLink) {
    const messageId = moved[0]!.message_id;
    const { rows: pair } = await run(s.counts.pairToBot, [n, suspect, w.recipientId, linkId]);
    if (pair.length === 0) throw new HitRefused(`no counts for recipient ${w.recipientId} and link ${linkId}`);
    const link = bump(counters.links, linkId);
    link.total -= n;
    link.bot += n;
    link.suspect -= suspect;
    if ((pair[0] as { human: number }).human === 0) link.unique--;
    const totals = bump(counters.clicks, messageId);
    totals.total -= n;
    totals.bot += n;
    totals.suspect -= suspect;
    const { rows: r } = await run(s.recipients.humanClicks, [w.recipientId]);
    if (r.length === 0) throw new HitRefused(`no recipient ${w.recipientId}`);
    if ((r[0] as { human_clicks: number }).human_clicks === 0) totals.unique--;
  }
}

/** The batch's additive counters, in one statement (counts.batch), each table's rows in key order. */
export async function writeCounters(run: Run, s: Statements, counters: Counters): Promise<void> {
  const linkIds = [...counters.links.keys()].sort((a, b) => a - b);
  const links = linkIds.map((id) => counters.links.get(id)!);
  const messageIds = [...new Set([...counters.clicks.keys(), ...counters.opens.keys()])].sort((a, b) => a - b);
  const zero: Delta = { total: 0, unique: 0, bot: 0, suspect: 0 };
  const clicks = messageIds.map((id) => counters.clicks.get(id) ?? zero);
  const opens = messageIds.map((id) => counters.opens.get(id) ?? zero);
  const reasons = [...counters.reasons.values()].sort(
    (a, b) => a.recipientId - b.recipientId || a.linkId - b.linkId || cmp(a.verdict, b.verdict) || cmp(a.reason, b.reason),
  );
  const hours = [...counters.hours.values()].sort((a, b) => a.messageId - b.messageId || a.hour - b.hour);
  if (linkIds.length + messageIds.length + reasons.length + hours.length === 0) return;
  await run(s.counts.batch, [
    linkIds,
    links.map((x) => x.total),
    links.map((x) => x.unique),
    links.map((x) => x.bot),
    links.map((x) => x.suspect),
    messageIds,
    clicks.map((x) => x.total),
    clicks.map((x) => x.unique),
    clicks.map((x) => x.bot),
    clicks.map((x) => x.suspect),
    opens.map((x) => x.total),
    opens.map((x) => x.unique),
    opens.map((x) => x.bot),
    reasons.map((r) => r.recipientId),
    reasons.map((r) => r.linkId),
    reasons.map((r) => r.messageId),
    reasons.map((r) => r.verdict),
    reasons.map((r) => r.reason),
    reasons.map((r) => r.n),
    hours.map((h) => h.messageId),
    hours.map((h) => h.hour),
    hours.map((h) => h.human),
    hours.map((h) => h.bot),
  ]);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
