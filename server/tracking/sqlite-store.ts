import Database from 'better-sqlite3';
import type { ClickCounts, ClickReasons, Counts, PersonStats, SuspectReason } from '../../api/types.ts';
import { openDatabase, toRecipient, type RecipientRow } from '../store/sqlite.ts';
import {
  HitRefused,
  JournalMoved,
  type JournalPosition,
  type JournalTarget,
  type LinkTarget,
  type RecipientTarget,
  type Refusal,
  type TrackingStore,
  type TrackingWrite,
} from './store.ts';

const HOUR = 3_600_000;
const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());

interface Delta {
  total: number;
  unique: number;
  bot: number;
  suspect: number;
}
const bump = <K>(map: Map<K, Delta>, key: K): Delta => {
  let d = map.get(key);
  if (!d) map.set(key, (d = { total: 0, unique: 0, bot: 0, suspect: 0 }));
  return d;
};

/** A click_reasons row's key: recipient, link, message, verdict, reason. */
type ReasonKey = `${number}:${number}:${number}:${'bot' | 'suspect'}:${string}`;

/** Errors about the write itself. Any other (busy, locked, read-only, I/O, full, corrupt) is the database's: waited for, never set aside. */
const REFUSES_THE_WRITE = /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/;
function refusesTheWrite(err: unknown): boolean {
  if (err instanceof HitRefused) return true;
  if (err instanceof Database.SqliteError) return REFUSES_THE_WRITE.test(err.code);
  // A value SQLite cannot bind: the line's shape. (A closed connection throws a TypeError too,
  // but at BEGIN, before any write: that stays the whole batch's failure.)
  return err instanceof TypeError || err instanceof RangeError;
}

/**
 * A connection that met a read-only file stays read-only after the file is writable again
 * (SQLite fell back to opening it read-only), and one whose file was replaced keeps writing
 * to the old one: after these, the next commit opens a new connection.
 */
const STALE_CONNECTION = /^SQLITE_(READONLY|IOERR|CANTOPEN|NOTADB|CORRUPT)/;

type Move = { from: JournalPosition | null; to: JournalPosition };

function statements(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    link: p(
      `SELECT id, message_id, url, tracked, honeypot,
         (SELECT count(*) FROM links m WHERE m.message_id = l.message_id AND m.tracked = 1 AND m.honeypot = 0) AS tracked_links
       FROM links l WHERE id = ?`,
    ),
    recipient: p('SELECT * FROM recipients WHERE id = ?'),
    insertClick: p(
      'INSERT INTO clicks (link_id, recipient_id, message_id, at, bot_reason, suspect_reason, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    insertOpen: p('INSERT INTO opens (recipient_id, message_id, at, bot_reason, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?)'),
    pair: p(
      `INSERT INTO recipient_link_counts (recipient_id, link_id, message_id, human, bot, suspect, first_at, last_at)
       VALUES (@recipient, @link, @message, @human, @bot, @suspect, @humanAt, @humanAt)
       ON CONFLICT (recipient_id, link_id) DO UPDATE SET
         human = human + excluded.human, bot = bot + excluded.bot, suspect = suspect + excluded.suspect,
         first_at = coalesce(first_at, excluded.first_at), last_at = coalesce(excluded.last_at, last_at)
       RETURNING human`,
    ),
    recipientClicked: p('UPDATE recipients SET human_clicks = human_clicks + ? WHERE id = ? RETURNING human_clicks'),
    recipientOpened: p(
      'UPDATE recipients SET human_opens = human_opens + 1, opened_at = coalesce(opened_at, ?) WHERE id = ? RETURNING human_opens',
    ),
    // A suspect click taken back is a bot hit like the others: it loses its suspect reason.
    toReclassify: p(
      `SELECT link_id, message_id, at, suspect_reason FROM clicks
       WHERE recipient_id = ? AND at BETWEEN ? AND ? AND bot_reason IS NULL`,
    ),
    reclassify: p(
      `UPDATE clicks SET bot_reason = ?, suspect_reason = NULL WHERE recipient_id = ? AND at BETWEEN ? AND ? AND bot_reason IS NULL`,
    ),
    pairToBot: p(
      `UPDATE recipient_link_counts SET human = human - @n, bot = bot + @n, suspect = suspect - @suspect,
         first_at = (SELECT min(at) FROM clicks WHERE recipient_id = @recipient AND link_id = @link AND bot_reason IS NULL),
         last_at = (SELECT max(at) FROM clicks WHERE recipient_id = @recipient AND link_id = @link AND bot_reason IS NULL)
       WHERE recipient_id = @recipient AND link_id = @link RETURNING human`,
    ),
    linkCounts: p(
      `INSERT INTO link_counts (link_id, total, uniq, bot, suspect) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (link_id) DO UPDATE SET total = total + excluded.total, uniq = uniq + excluded.uniq, bot = bot + excluded.bot,
         suspect = suspect + excluded.suspect`,
    ),
    messageClicks: p(
      `INSERT INTO message_counts (message_id, clicks_total, clicks_unique, clicks_bot, clicks_suspect) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (message_id) DO UPDATE SET clicks_total = clicks_total + excluded.clicks_total,
         clicks_unique = clicks_unique + excluded.clicks_unique, clicks_bot = clicks_bot + excluded.clicks_bot,
         clicks_suspect = clicks_suspect + excluded.clicks_suspect`,
    ),
    reasonCount: p(
      `INSERT INTO click_reasons (recipient_id, link_id, message_id, verdict, reason, n) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (recipient_id, link_id, verdict, reason) DO UPDATE SET n = n + excluded.n`,
    ),
    messageReasons: p('SELECT verdict, reason, sum(n) AS n FROM click_reasons WHERE message_id = ? GROUP BY verdict, reason HAVING sum(n) > 0'),
    peopleReasons: p('SELECT recipient_id, link_id, verdict, reason, n FROM click_reasons WHERE message_id = ? AND n > 0'),
    messageOpens: p(
      `INSERT INTO message_counts (message_id, opens_total, opens_unique, opens_bot) VALUES (?, ?, ?, ?)
       ON CONFLICT (message_id) DO UPDATE SET opens_total = opens_total + excluded.opens_total,
         opens_unique = opens_unique + excluded.opens_unique, opens_bot = opens_bot + excluded.opens_bot`,
    ),
    hour: p(
      `INSERT INTO click_hours (message_id, hour, human, bot) VALUES (?, ?, ?, ?)
       ON CONFLICT (message_id, hour) DO UPDATE SET human = human + excluded.human, bot = bot + excluded.bot`,
    ),
    journal: p('SELECT segment, offset FROM click_journal WHERE id = 1'),
    moveJournal: p(
      'INSERT INTO click_journal (id, segment, offset) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET segment = excluded.segment, offset = excluded.offset',
    ),
    counts: p('SELECT * FROM message_counts WHERE message_id = ?'),
    links: p(
      `SELECT l.id, l.url, l.position, l.text, l.part, coalesce(c.total, 0) AS total, coalesce(c.uniq, 0) AS uniq, coalesce(c.bot, 0) AS bot,
         coalesce(c.suspect, 0) AS suspect
       FROM links l LEFT JOIN link_counts c ON c.link_id = l.id
       WHERE l.message_id = ? AND l.tracked = 1 AND l.honeypot = 0 ORDER BY l.position`,
    ),
    hours: p('SELECT hour, human, bot FROM click_hours WHERE message_id = ? ORDER BY hour'),
    goalCompleted: p('SELECT count(*) AS n FROM recipients WHERE message_id = ? AND goal_at IS NOT NULL'),
    peopleRecipients: p(
      'SELECT id, email, name, sent_at, opened_at, goal_at FROM recipients WHERE message_id = ? ORDER BY id',
    ),
    peopleClicks: p(
      `SELECT c.recipient_id, c.link_id, c.human, c.bot, c.suspect, c.first_at, c.last_at
       FROM recipient_link_counts c JOIN links l ON l.id = c.link_id
       WHERE c.message_id = ? AND l.honeypot = 0 ORDER BY c.recipient_id, l.position`,
    ),
  };
}

/**
 * Clicks and opens in SQLite, on a connection of its own. A busy database makes commit()
 * throw (at once on the event loop, after a short wait on the writer thread), and the
 * journal's ingester tries again later: the hits are safe in the journal meanwhile.
 */
export class SqliteTrackingStore implements TrackingStore, JournalTarget {
  private db!: Database.Database;
  private s!: ReturnType<typeof statements>;
  private tx!: { whole: (batch: TrackingWrite[], journal?: Move) => void; each: (batch: TrackingWrite[], journal: Move, setAside: (refused: Refusal[]) => void) => number };
  private stale = false;

  /** busyTimeoutMs: how long a commit may wait for another connection's write; 0 on the event loop. */
  constructor(
    private readonly path: string,
    private readonly opts: { busyTimeoutMs?: number } = {},
  ) {
    this.use(openDatabase(path));
  }

  private use(db: Database.Database): void {
    db.pragma(`busy_timeout = ${this.opts.busyTimeoutMs ?? 0}`);
    this.db = db;
    this.s = statements(db);
    const move = (journal: Move) => {
      const at = this.journalPosition();
      if (at?.segment !== journal.from?.segment || at?.offset !== journal.from?.offset) {
        throw new JournalMoved(`the click journal was at ${JSON.stringify(at)}, not ${JSON.stringify(journal.from)}`);
      }
      this.s.moveJournal.run(journal.to.segment, journal.to.offset);
    };
    this.tx = {
      whole: db.transaction((batch: TrackingWrite[], journal?: Move) => {
        if (journal) move(journal);
        try {
          this.applyBatch(batch);
        } catch (err) {
          throw refusesTheWrite(err) && !(err instanceof HitRefused) ? new HitRefused((err as Error).message, { cause: err }) : err;
        }
      }),
      each: db.transaction((batch: TrackingWrite[], journal: Move, setAside: (refused: Refusal[]) => void) => {
        move(journal);
        const refused: Refusal[] = [];
        batch.forEach((write, index) => {
          db.exec('SAVEPOINT hit');
          try {
            this.applyBatch([write]);
          } catch (err) {
            db.exec('ROLLBACK TO hit');
            if (!refusesTheWrite(err)) throw err;
            refused.push({ index, error: (err as Error).message });
          } finally {
            db.exec('RELEASE hit');
          }
        });
        if (refused.length > 0) setAside(refused);
        return batch.length - refused.length;
      }),
    };
  }

  commit(batch: TrackingWrite[], journal?: Move): void {
    this.writing(() => this.tx.whole(batch, journal));
  }

  commitEach(batch: TrackingWrite[], journal: Move, setAside: (refused: Refusal[]) => void): number {
    return this.writing(() => this.tx.each(batch, journal, setAside));
  }

  private writing<T>(write: () => T): T {
    if (this.stale) {
      const db = openDatabase(this.path); // throws while the file cannot be opened: still stale, tried again next time
      this.db.close();
      this.use(db);
      this.stale = false;
    }
    try {
      return write();
    } catch (err) {
      if (err instanceof Database.SqliteError && STALE_CONNECTION.test(err.code)) this.stale = true;
      throw err;
    }
  }

  async getLink(id: number): Promise<LinkTarget | null> {
    const row = this.s.link.get(id) as
      | { id: number; message_id: number; url: string; tracked: number; honeypot: number; tracked_links: number }
      | undefined;
    if (!row) return null;
    return {
      id: row.id,
      messageId: row.message_id,
      url: row.url,
      tracked: row.tracked === 1,
      honeypot: row.honeypot === 1,
      messageTrackedLinks: row.tracked_links,
    };
  }

  async getRecipient(id: number): Promise<RecipientTarget | null> {
    const row = this.s.recipient.get(id) as RecipientRow | undefined;
    return row ? toRecipient(row) : null;
  }

  journalPosition(): JournalPosition | null {
    return (this.s.journal.get() as JournalPosition | undefined) ?? null;
  }

  /** Per-link, per-message and per-hour deltas are summed over the batch and written once per key. */
  private applyBatch(batch: TrackingWrite[]): void {
    const s = this.s;
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

    for (const w of batch) {
      if (w.kind === 'click') {
        const human = w.botReason === null;
        const suspect = human ? (w.suspectReason ?? null) : null;
        s.insertClick.run(w.linkId, w.recipientId, w.messageId, w.at, w.botReason, suspect, w.ip, w.userAgent);
        const { human: pairHumans } = s.pair.get({
          recipient: w.recipientId,
          link: w.linkId,
          message: w.messageId,
          human: human ? 1 : 0,
          bot: human ? 0 : 1,
          suspect: suspect ? 1 : 0,
          humanAt: human ? w.at : null,
        }) as { human: number };
        if (w.botReason) reason(w, w.linkId, 'bot', w.botReason, 1);
        if (suspect) {
          reason(w, w.linkId, 'suspect', suspect, 1);
          bump(links, w.linkId).suspect++;
          bump(clickTotals, w.messageId).suspect++;
        }
        if (human) {
          bump(links, w.linkId).total++;
          bump(clickTotals, w.messageId).total++;
          if (pairHumans === 1) bump(links, w.linkId).unique++;
          const { human_clicks } = recipientRow<{ human_clicks: number }>(s.recipientClicked.get(1, w.recipientId), w.recipientId);
          if (human_clicks === 1) bump(clickTotals, w.messageId).unique++;
          hourOf(w.messageId, w.at).human++;
        } else {
          bump(links, w.linkId).bot++;
          bump(clickTotals, w.messageId).bot++;
          hourOf(w.messageId, w.at).bot++;
        }
      } else if (w.kind === 'open') {
        s.insertOpen.run(w.recipientId, w.messageId, w.at, w.botReason, w.ip, w.userAgent);
        if (w.botReason === null) {
          const { human_opens } = recipientRow<{ human_opens: number }>(s.recipientOpened.get(w.at, w.recipientId), w.recipientId);
          bump(openTotals, w.messageId).total++;
          if (human_opens === 1) bump(openTotals, w.messageId).unique++;
        } else {
          bump(openTotals, w.messageId).bot++;
        }
      } else {
        const moved = s.toReclassify.all(w.recipientId, w.from, w.to) as { link_id: number; message_id: number; at: number; suspect_reason: SuspectReason | null }[];
        s.reclassify.run(w.reason, w.recipientId, w.from, w.to);
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
          const { human } = s.pairToBot.get({ n, suspect, recipient: w.recipientId, link: linkId }) as { human: number };
          const link = bump(links, linkId);
          link.total -= n;
          link.bot += n;
          link.suspect -= suspect;
          if (human === 0) link.unique--;
          const totals = bump(clickTotals, messageId);
          totals.total -= n;
          totals.bot += n;
          totals.suspect -= suspect;
          const { human_clicks } = recipientRow<{ human_clicks: number }>(s.recipientClicked.get(-n, w.recipientId), w.recipientId);
          if (human_clicks === 0) totals.unique--;
        }
      }
    }

    for (const [id, d] of links) s.linkCounts.run(id, d.total, d.unique, d.bot, d.suspect);
    for (const [id, d] of clickTotals) s.messageClicks.run(id, d.total, d.unique, d.bot, d.suspect);
    for (const [key, n] of reasons) {
      const [recipientId, linkId, messageId, verdict, why] = key.split(':');
      s.reasonCount.run(Number(recipientId), Number(linkId), Number(messageId), verdict, why, n);
    }
    for (const [id, d] of openTotals) s.messageOpens.run(id, d.total, d.unique, d.bot);
    for (const [key, h] of hours) {
      const [messageId, hour] = key.split(':').map(Number);
      s.hour.run(messageId, hour, h.human, h.bot);
    }
  }

  private counts(messageId: number): { opens: Counts; clicks: ClickCounts } {
    const c = this.s.counts.get(messageId) as Record<string, number> | undefined;
    const counts = (prefix: 'clicks' | 'opens'): Counts => ({
      total: c?.[`${prefix}_total`] ?? 0,
      unique: c?.[`${prefix}_unique`] ?? 0,
      bot: c?.[`${prefix}_bot`] ?? 0,
    });
    return { opens: counts('opens'), clicks: { ...counts('clicks'), suspect: c?.clicks_suspect ?? 0 } };
  }

  async messageStats(messageId: number) {
    const links = (
      this.s.links.all(messageId) as { id: number; url: string; position: number; text: string; part: 'html' | 'text'; total: number; uniq: number; bot: number; suspect: number }[]
    ).map((l) => ({
      id: l.id,
      url: l.url,
      position: l.position,
      text: l.text,
      part: l.part,
      clicks: { total: l.total, unique: l.uniq, bot: l.bot, suspect: l.suspect },
    }));
    const reasons: ClickReasons = { bot: {}, suspect: {} };
    for (const r of this.s.messageReasons.all(messageId) as { verdict: 'bot' | 'suspect'; reason: string; n: number }[]) {
      (reasons[r.verdict] as Record<string, number>)[r.reason] = r.n;
    }
    const timeline = (this.s.hours.all(messageId) as { hour: number; human: number; bot: number }[])
      .filter((h) => h.human !== 0 || h.bot !== 0)
      .map((h) => ({ hour: iso(h.hour)!, human: h.human, bot: h.bot }));
    const { n } = this.s.goalCompleted.get(messageId) as { n: number };
    return { ...this.counts(messageId), reasons, links, timeline, goalCompleted: n };
  }

  async people(messageId: number): Promise<PersonStats[]> {
    const reasonsOf = new Map<string, ClickReasons>();
    for (const r of this.s.peopleReasons.all(messageId) as { recipient_id: number; link_id: number; verdict: 'bot' | 'suspect'; reason: string; n: number }[]) {
      const key = `${r.recipient_id}:${r.link_id}`;
      const reasons = reasonsOf.get(key) ?? { bot: {}, suspect: {} };
      (reasons[r.verdict] as Record<string, number>)[r.reason] = r.n;
      reasonsOf.set(key, reasons);
    }
    const byRecipient = new Map<number, PersonStats['clicks']>();
    for (const row of this.s.peopleClicks.all(messageId) as { recipient_id: number; link_id: number; human: number; bot: number; suspect: number; first_at: number | null; last_at: number | null }[]) {
      const list = byRecipient.get(row.recipient_id) ?? [];
      list.push({
        linkId: row.link_id,
        count: row.human,
        suspect: row.suspect,
        bot: row.bot,
        reasons: reasonsOf.get(`${row.recipient_id}:${row.link_id}`) ?? { bot: {}, suspect: {} },
        firstAt: iso(row.first_at),
        lastAt: iso(row.last_at),
      });
      byRecipient.set(row.recipient_id, list);
    }
    return (this.s.peopleRecipients.all(messageId) as { id: number; email: string; name: string | null; sent_at: number | null; opened_at: number | null; goal_at: number | null }[]).map(
      (r) => ({
        recipientId: r.id,
        email: r.email,
        name: r.name,
        sentAt: iso(r.sent_at),
        openedAt: iso(r.opened_at),
        clicks: byRecipient.get(r.id) ?? [],
        goalAt: iso(r.goal_at),
      }),
    );
  }

  async headlines(messageIds: number[]) {
    return new Map(messageIds.map((id) => [id, this.counts(id)]));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** A hit names a recipient the database does not have (it was replaced, or the recipient removed). */
function recipientRow<T>(row: unknown, id: number): T {
  if (row === undefined) throw new HitRefused(`no recipient ${id}`);
  return row as T;
}
