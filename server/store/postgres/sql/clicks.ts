/**
 * clicks and opens, and the counters kept beside them in the same transactions (per
 * recipient and link, per link, per message, per hour, per reason), so stats never scan the
 * clicks. Written only by the click journal's ingester, a batch at a time, one statement per
 * table for a whole run of hits: the hits themselves by COPY, the counters from arrays (unnest).
 */
/** The first key of the recipients' advisory locks (the second is the recipient's id). */
const RECIPIENT_LOCKS = 7_241_970;
/** The second key no recipient has (theirs are ids modulo 2³¹ − 1): the lock over them all. */
const ALL_RECIPIENTS = -1;

export const clicksSql = {
  /**
   * The recipients a batch names, in id order, each locked to the end of the transaction, with
   * the whole ingest's lock shared (click-batch.ts severalNodes).
   */
  lockRecipients: `SELECT count(*) FROM (SELECT pg_advisory_xact_lock_shared(${RECIPIENT_LOCKS}, ${ALL_RECIPIENTS})
                     UNION ALL SELECT pg_advisory_xact_lock(${RECIPIENT_LOCKS}, (id % 2147483647)::int) FROM unnest($1::bigint[]) AS u(id)) AS locked`,
  /** A batch naming too many recipients to lock one by one: every other node's batch waits for it. */
  lockAllRecipients: `SELECT pg_advisory_xact_lock(${RECIPIENT_LOCKS}, ${ALL_RECIPIENTS})`,
  /** A run's clicks, in journal order (copyRow: link, recipient, message, at, bot reason, suspect reason, ip, user agent). */
  copy: 'COPY clicks (link_id, recipient_id, message_id, at, bot_reason, suspect_reason, ip, user_agent) FROM STDIN',
  /** A recipient's clicks a later verdict takes back: read first, so their suspect reasons can be uncounted. */
  toTakeBack: `SELECT link_id, message_id, at, suspect_reason FROM clicks
               WHERE recipient_id = $1 AND at BETWEEN $2 AND $3 AND bot_reason IS NULL ORDER BY id`,
  /** A suspect click taken back is a bot hit like the others: it loses its suspect reason. */
  takeBack: `UPDATE clicks SET bot_reason = $1, suspect_reason = NULL WHERE recipient_id = $2 AND at BETWEEN $3 AND $4 AND bot_reason IS NULL`,
  verdict: 'SELECT bot_reason, suspect_reason FROM clicks WHERE recipient_id = $1 AND link_id = $2 AND at = $3 ORDER BY id LIMIT 1',
  /**
   * Every node's hits of these recipients, each within its window [lo, hi], and whether each
   * was on the honeypot: what the shared verdicts of a run are judged on (SQLite asks the
   * same of each click on its own: clicksSql.neighbours there).
   */
  neighbours: `SELECT c.recipient_id, c.link_id, c.at, l.honeypot
               FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(recipient_id, lo, hi)
               JOIN clicks c ON c.recipient_id = u.recipient_id AND c.at BETWEEN u.lo AND u.hi
               JOIN links l ON l.id = c.link_id`,
  /** A draft's (hits on its previews), by its recipients: the index there is, not a scan of every click. */
  deleteOfMessage: 'DELETE FROM clicks WHERE recipient_id IN (SELECT id FROM recipients WHERE message_id = $1)',
} as const;

export const opensSql = {
  /** A run's opens, in journal order (copyRow: recipient, message, at, bot reason, ip, user agent). */
  copy: 'COPY opens (recipient_id, message_id, at, bot_reason, ip, user_agent) FROM STDIN',
  deleteOfMessage: 'DELETE FROM opens WHERE recipient_id IN (SELECT id FROM recipients WHERE message_id = $1)',
} as const;

export const clickCountsSql = {
  /**
   * recipient_link_counts for a run, one row per pair; of its pairs with human clicks, those
   * that had none before it (the count after is the run's own): a unique clicker of the link.
   */
  pair: `WITH run AS (
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
             AS u(recipient_id, link_id, message_id, human, bot, suspect, first_at, last_at)),
         counted AS (
           INSERT INTO recipient_link_counts AS c (recipient_id, link_id, message_id, human, bot, suspect, first_at, last_at)
           SELECT * FROM run
           ON CONFLICT (recipient_id, link_id) DO UPDATE SET
             human = c.human + excluded.human, bot = c.bot + excluded.bot, suspect = c.suspect + excluded.suspect,
             first_at = coalesce(c.first_at, excluded.first_at), last_at = coalesce(excluded.last_at, c.last_at)
           RETURNING c.recipient_id, c.link_id, c.human)
         SELECT counted.recipient_id, counted.link_id FROM counted JOIN run USING (recipient_id, link_id)
         WHERE run.human > 0 AND counted.human = run.human`,
  /**
   * The human clicks of these recipients so far, the sum of their pairs' (recipientsSql.humanClicks,
   * for many): asked after a run of those whose pairs in it had none before.
   */
  humanClicksOf: 'SELECT recipient_id, sum(human) AS human_clicks FROM recipient_link_counts WHERE recipient_id = ANY($1::bigint[]) GROUP BY recipient_id',
  pairToBot: `UPDATE recipient_link_counts SET human = human - $1, bot = bot + $1, suspect = suspect - $2,
                first_at = (SELECT min(at) FROM clicks WHERE recipient_id = $3 AND link_id = $4 AND bot_reason IS NULL),
                last_at = (SELECT max(at) FROM clicks WHERE recipient_id = $3 AND link_id = $4 AND bot_reason IS NULL)
              WHERE recipient_id = $3 AND link_id = $4 RETURNING human`,
  /**
   * A batch's additive counters, one round trip for the four tables: per link ($1-$5), per
   * message ($6-$13: SQLite's messageClicks and messageOpens in one, a message's row once per
   * batch), per reason ($14-$19) and per hour ($20-$23). Each table's rows come in key order
   * and every node runs this same statement: the same lock order everywhere.
   */
  batch: `WITH links AS (
            INSERT INTO link_counts AS c (link_id, total, uniq, bot, suspect)
            SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
            ON CONFLICT (link_id) DO UPDATE SET total = c.total + excluded.total, uniq = c.uniq + excluded.uniq, bot = c.bot + excluded.bot,
              suspect = c.suspect + excluded.suspect),
          messages AS (
            INSERT INTO message_counts AS c (message_id, clicks_total, clicks_unique, clicks_bot, clicks_suspect, opens_total, opens_unique, opens_bot)
            SELECT * FROM unnest($6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[])
            ON CONFLICT (message_id) DO UPDATE SET clicks_total = c.clicks_total + excluded.clicks_total,
              clicks_unique = c.clicks_unique + excluded.clicks_unique, clicks_bot = c.clicks_bot + excluded.clicks_bot,
              clicks_suspect = c.clicks_suspect + excluded.clicks_suspect, opens_total = c.opens_total + excluded.opens_total,
              opens_unique = c.opens_unique + excluded.opens_unique, opens_bot = c.opens_bot + excluded.opens_bot),
          reasons AS (
            INSERT INTO click_reasons AS c (recipient_id, link_id, message_id, verdict, reason, n)
            SELECT * FROM unnest($14::bigint[], $15::bigint[], $16::bigint[], $17::text[], $18::text[], $19::bigint[])
            ON CONFLICT (recipient_id, link_id, verdict, reason) DO UPDATE SET n = c.n + excluded.n),
          hours AS (
            INSERT INTO click_hours AS c (message_id, hour, human, bot)
            SELECT * FROM unnest($20::bigint[], $21::bigint[], $22::bigint[], $23::bigint[])
            ON CONFLICT (message_id, hour) DO UPDATE SET human = c.human + excluded.human, bot = c.bot + excluded.bot)
          SELECT 1`,

  ofMessage: 'SELECT * FROM message_counts WHERE message_id = $1',
  ofMessages: 'SELECT * FROM message_counts WHERE message_id = ANY($1::bigint[])',
  linksOfMessage: `SELECT l.id, l.url, l.position, l.text, l.part, coalesce(c.total, 0) AS total, coalesce(c.uniq, 0) AS uniq,
                     coalesce(c.bot, 0) AS bot, coalesce(c.suspect, 0) AS suspect
                   FROM links l LEFT JOIN link_counts c ON c.link_id = l.id
                   WHERE l.message_id = $1 AND l.tracked = 1 AND l.honeypot = 0 ORDER BY l.position`,
  hoursOfMessage: 'SELECT hour, human, bot FROM click_hours WHERE message_id = $1 ORDER BY hour',
  reasonsOfMessage: `SELECT verdict, reason, sum(n)::bigint AS n FROM click_reasons WHERE message_id = $1
                     GROUP BY verdict, reason HAVING sum(n) > 0 ORDER BY verdict, reason`,
  reasonsOfPeople: 'SELECT recipient_id, link_id, verdict, reason, n FROM click_reasons WHERE message_id = $1 AND n > 0 ORDER BY recipient_id, link_id, verdict, reason',
  pairsOfMessage: `SELECT c.recipient_id, c.link_id, c.human, c.bot, c.suspect, c.first_at, c.last_at
                   FROM recipient_link_counts c JOIN links l ON l.id = c.link_id
                   WHERE c.message_id = $1 AND l.honeypot = 0 ORDER BY c.recipient_id, l.position`,

  /** A draft's counters (its previews' hits), gone with the content they counted; links first, while they are there. */
  deleteLinksOfMessage: 'DELETE FROM link_counts WHERE link_id IN (SELECT id FROM links WHERE message_id = $1)',
  deletePairsOfMessage: 'DELETE FROM recipient_link_counts WHERE message_id = $1',
  deleteReasonsOfMessage: 'DELETE FROM click_reasons WHERE message_id = $1',
  deleteHoursOfMessage: 'DELETE FROM click_hours WHERE message_id = $1',
  deleteOfMessage: 'DELETE FROM message_counts WHERE message_id = $1',
} as const;

/** click_journals: how far each node's journal has been folded into the tables above. */
export const journalSql = {
  position: 'SELECT segment, "offset" FROM click_journals WHERE node = $1',
  /** The position a release before node ids left, taken by the first node that has none of its own. */
  adoptLegacy: `UPDATE click_journals SET node = $1 WHERE node = ''
                AND NOT EXISTS (SELECT 1 FROM click_journals WHERE node = $1)`,
  /** How many nodes write into the database: alone, a node's own judgment saw every hit. */
  nodes: 'SELECT count(*) AS n FROM click_journals',
  /** A node's first position: no row if another writer made it first (then the journal moved). */
  start: `INSERT INTO click_journals (node, segment, "offset") VALUES ($1, $2, $3) ON CONFLICT (node) DO NOTHING RETURNING node`,
  /** The move from where this writer thought it was: no row if it is not there any more. */
  move: `UPDATE click_journals SET segment = $2, "offset" = $3 WHERE node = $1 AND segment = $4 AND "offset" = $5 RETURNING node`,
} as const;
