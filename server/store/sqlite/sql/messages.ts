/** messages and their links (the honeypot is a link too, with honeypot = 1). */
export const messagesSql = {
  insert: `INSERT INTO messages (subject, html, text, channel, goal_event, goal_within_days, compiled, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  byId: 'SELECT * FROM messages WHERE id = ?',
  newest: 'SELECT * FROM messages ORDER BY created_at DESC, id DESC LIMIT ?',
} as const;

export const linksSql = {
  insert: 'INSERT INTO links (message_id, position, part, url, text, tracked, reason) VALUES (?, ?, ?, ?, ?, ?, ?)',
  insertHoneypot: `INSERT INTO links (message_id, position, part, url, text, tracked, honeypot) VALUES (?, -1, 'html', '', '', 1, 1)`,
  ofMessage: 'SELECT * FROM links WHERE message_id = ? ORDER BY position',
  /** What the redirect needs: the link, and how many tracked links its message has (for the burst rule). */
  target: `SELECT id, message_id, url, tracked, honeypot,
             (SELECT count(*) FROM links m WHERE m.message_id = l.message_id AND m.tracked = 1 AND m.honeypot = 0) AS tracked_links
           FROM links l WHERE id = ?`,
  /** A click's origin for the team: the message and the link's destination. */
  clickOrigin: `SELECT m.id AS messageId, m.subject AS subject, l.url AS linkUrl
                FROM recipients r JOIN messages m ON m.id = r.message_id
                LEFT JOIN links l ON l.id = ? AND l.message_id = m.id
                WHERE r.id = ?`,
} as const;
