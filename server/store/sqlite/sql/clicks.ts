/**
 * clicks and opens, and the counters kept beside them in the same transactions (per
 * recipient and link, per link, per message, per hour, per reason), so stats never scan the
 * clicks. Written only by the click journal's ingester.
 */
export const clicksSql = {
  insert: 'INSERT INTO clicks (link_id, recipient_id, message_id, at, bot_reason, suspect_reason, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  /** A recipient's clicks a later verdict takes back: read first, so their suspect reasons can be uncounted. */
  toTakeBack: `SELECT link_id, message_id, at, suspect_reason FROM clicks
               WHERE recipient_id = ? AND at BETWEEN ? AND ? AND bot_reason IS NULL`,
  /** A suspect click taken back is a bot hit like the others: it loses its suspect reason. */
  takeBack: `UPDATE clicks SET bot_reason = ?, suspect_reason = NULL WHERE recipient_id = ? AND at BETWEEN ? AND ? AND bot_reason IS NULL`,
  verdict: 'SELECT bot_reason, suspect_reason FROM clicks WHERE recipient_id = ? AND link_id = ? AND at = ?',
  /**
   * A recipient's hits around a click, from every node: a honeypot hit within @window either
   * side, how many links other than @link were hit in the @window before, and how many the mail
   * has (none for an in-app card or a push: a burst is a mail scanner's walk).
   */
  neighbours: `SELECT
      (SELECT max(l.honeypot) FROM clicks c JOIN links l ON l.id = c.link_id
         WHERE c.recipient_id = @recipient AND c.at BETWEEN @at - @window AND @at + @window AND l.honeypot = 1) AS honeypot,
      (SELECT count(DISTINCT c.link_id) FROM clicks c JOIN links l ON l.id = c.link_id
         WHERE c.recipient_id = @recipient AND c.at BETWEEN @at - @window AND @at AND l.honeypot = 0 AND c.link_id <> @link) AS links,
      (SELECT count(*) FROM links l JOIN messages m ON m.id = l.message_id
         WHERE l.message_id = @message AND l.tracked = 1 AND l.honeypot = 0 AND m.channel = 'email') AS tracked`,
  /** A draft's (hits on its previews), by its recipients: the index there is, not a scan of every click. */
  deleteOfMessage: 'DELETE FROM clicks WHERE recipient_id IN (SELECT id FROM recipients WHERE message_id = ?)',
} as const;

export const opensSql = {
  insert: 'INSERT INTO opens (recipient_id, message_id, at, bot_reason, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?)',
  deleteOfMessage: 'DELETE FROM opens WHERE recipient_id IN (SELECT id FROM recipients WHERE message_id = ?)',
} as const;

export const clickCountsSql = {
  /**
   * recipient_link_counts: the first human click of a pair tells a unique clicker of the link.
   * Parameters by position (recipient, link, message, human, bot, suspect, human click's time
   * twice): binding names costs a lookup each, once per click.
   */
  pair: `INSERT INTO recipient_link_counts (recipient_id, link_id, message_id, human, bot, suspect, first_at, last_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (recipient_id, link_id) DO UPDATE SET
           human = human + excluded.human, bot = bot + excluded.bot, suspect = suspect + excluded.suspect,
           first_at = coalesce(first_at, excluded.first_at), last_at = coalesce(excluded.last_at, last_at)
         RETURNING human`,
  pairToBot: `UPDATE recipient_link_counts SET human = human - @n, bot = bot + @n, suspect = suspect - @suspect,
                first_at = (SELECT min(at) FROM clicks WHERE recipient_id = @recipient AND link_id = @link AND bot_reason IS NULL),
                last_at = (SELECT max(at) FROM clicks WHERE recipient_id = @recipient AND link_id = @link AND bot_reason IS NULL)
              WHERE recipient_id = @recipient AND link_id = @link RETURNING human`,
  link: `INSERT INTO link_counts (link_id, total, uniq, bot, suspect) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (link_id) DO UPDATE SET total = total + excluded.total, uniq = uniq + excluded.uniq, bot = bot + excluded.bot,
           suspect = suspect + excluded.suspect`,
  messageClicks: `INSERT INTO message_counts (message_id, clicks_total, clicks_unique, clicks_bot, clicks_suspect) VALUES (?, ?, ?, ?, ?)
                  ON CONFLICT (message_id) DO UPDATE SET clicks_total = clicks_total + excluded.clicks_total,
                    clicks_unique = clicks_unique + excluded.clicks_unique, clicks_bot = clicks_bot + excluded.clicks_bot,
                    clicks_suspect = clicks_suspect + excluded.clicks_suspect`,
  messageOpens: `INSERT INTO message_counts (message_id, opens_total, opens_unique, opens_bot) VALUES (?, ?, ?, ?)
                 ON CONFLICT (message_id) DO UPDATE SET opens_total = opens_total + excluded.opens_total,
                   opens_unique = opens_unique + excluded.opens_unique, opens_bot = opens_bot + excluded.opens_bot`,
  hour: `INSERT INTO click_hours (message_id, hour, human, bot) VALUES (?, ?, ?, ?)
         ON CONFLICT (message_id, hour) DO UPDATE SET human = human + excluded.human, bot = bot + excluded.bot`,
  reason: `INSERT INTO click_reasons (recipient_id, link_id, message_id, verdict, reason, n) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (recipient_id, link_id, verdict, reason) DO UPDATE SET n = n + excluded.n`,

  ofMessage: 'SELECT * FROM message_counts WHERE message_id = ?',
  linksOfMessage: `SELECT l.id, l.url, l.position, l.text, l.part, coalesce(c.total, 0) AS total, coalesce(c.uniq, 0) AS uniq,
                     coalesce(c.bot, 0) AS bot, coalesce(c.suspect, 0) AS suspect
                   FROM links l LEFT JOIN link_counts c ON c.link_id = l.id
                   WHERE l.message_id = ? AND l.tracked = 1 AND l.honeypot = 0 ORDER BY l.position`,
  hoursOfMessage: 'SELECT hour, human, bot FROM click_hours WHERE message_id = ? ORDER BY hour',
  reasonsOfMessage: 'SELECT verdict, reason, sum(n) AS n FROM click_reasons WHERE message_id = ? GROUP BY verdict, reason HAVING sum(n) > 0',
  reasonsOfPeople: 'SELECT recipient_id, link_id, verdict, reason, n FROM click_reasons WHERE message_id = ? AND n > 0',
  pairsOfMessage: `SELECT c.recipient_id, c.link_id, c.human, c.bot, c.suspect, c.first_at, c.last_at
                   FROM recipient_link_counts c JOIN links l ON l.id = c.link_id
                   WHERE c.message_id = ? AND l.honeypot = 0 ORDER BY c.recipient_id, l.position`,

  /** A draft's counters (its previews' hits), gone with the content they counted; links first, while they are there. */
  deleteLinksOfMessage: 'DELETE FROM link_counts WHERE link_id IN (SELECT id FROM links WHERE message_id = ?)',
  deletePairsOfMessage: 'DELETE FROM recipient_link_counts WHERE message_id = ?',
  deleteReasonsOfMessage: 'DELETE FROM click_reasons WHERE message_id = ?',
  deleteHoursOfMessage: 'DELETE FROM click_hours WHERE message_id = ?',
  deleteOfMessage: 'DELETE FROM message_counts WHERE message_id = ?',
} as const;

/** click_journals: how far each node's journal has been folded into the tables above. */
export const journalSql = {
  position: 'SELECT segment, offset FROM click_journals WHERE node = ?',
  /** The position a release before node ids left, taken by the first node that has none of its own. */
  adoptLegacy: `UPDATE click_journals SET node = @node WHERE node = ''
                AND NOT EXISTS (SELECT 1 FROM click_journals WHERE node = @node)`,
  /** Nodes that have written clicks into this database. */
  nodes: 'SELECT count(*) AS n FROM click_journals',
  move: `INSERT INTO click_journals (node, segment, offset) VALUES (?, ?, ?)
         ON CONFLICT (node) DO UPDATE SET segment = excluded.segment, offset = excluded.offset`,
} as const;
