/** messages and their links (the honeypot is a link too, with honeypot = 1). */
export const messagesSql = {
  insert: `INSERT INTO messages (subject, html, text, channel, goal_event, goal_within_days, audience, push, compiled, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  byId: 'SELECT * FROM messages WHERE id = ?',
  newest: 'SELECT * FROM messages ORDER BY created_at DESC, id DESC LIMIT ?',
  /** The first send or publication: later ones keep its time. */
  markSent: 'UPDATE messages SET sent_at = coalesce(sent_at, ?) WHERE id = ?',
  /** Published in-app messages shown neither in this widget session nor to this person (:person NULL: anonymous). */
  unseenInApp: `SELECT m.* FROM messages m
                WHERE m.channel = 'in_app' AND m.sent_at IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND (r.visitor_id = :visitor OR r.person_id = :person))
                ORDER BY m.sent_at, m.id`,
} as const;

export const linksSql = {
  insert: 'INSERT INTO links (message_id, position, part, url, text, tracked, reason) VALUES (?, ?, ?, ?, ?, ?, ?)',
  insertHoneypot: `INSERT INTO links (message_id, position, part, url, text, tracked, honeypot) VALUES (?, -1, 'html', '', '', 1, 1)`,
  ofMessage: 'SELECT * FROM links WHERE message_id = ? ORDER BY position',
  /** What the redirect needs: the link, and how many tracked links its message has (for the burst rule). */
  target: `SELECT l.id, l.message_id, msg.channel, l.url, l.tracked, l.honeypot,
             (SELECT count(*) FROM links m WHERE m.message_id = l.message_id AND m.tracked = 1 AND m.honeypot = 0) AS tracked_links
           FROM links l JOIN messages msg ON msg.id = l.message_id WHERE l.id = ?`,
  /** A click's origin for the team: the message and the link's destination. */
  clickOrigin: `SELECT m.id AS messageId, m.subject AS subject, l.url AS linkUrl
                FROM recipients r JOIN messages m ON m.id = r.message_id
                LEFT JOIN links l ON l.id = ? AND l.message_id = m.id
                WHERE r.id = ?`,
} as const;
