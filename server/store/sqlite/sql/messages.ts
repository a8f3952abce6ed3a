/** messages and their links (the honeypot is a link too, with honeypot = 1). */
export const messagesSql = {
  insert: `INSERT INTO messages (subject, html, text, kind, from_address, reply_to, goal_event, goal_within_days, compiled, channel, audience, push, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  byId: 'SELECT * FROM messages WHERE id = ?',
  newest: 'SELECT * FROM messages ORDER BY created_at DESC, id DESC LIMIT ?',
  /** A draft's new content: nothing at all once its first send has started. */
  updateDraft: `UPDATE messages SET subject = ?, html = ?, text = ?, kind = ?, from_address = ?, reply_to = ?, goal_event = ?,
                  goal_within_days = ?, compiled = ?
                WHERE id = ? AND sent_at IS NULL`,
  deleteDraft: 'DELETE FROM messages WHERE id = ? AND sent_at IS NULL',
  /** Whether a message is there, and sent: what a refused edit or deletion tells apart. */
  sentAt: 'SELECT sent_at FROM messages WHERE id = ?',
  /** The first send or publication starts (its time is kept from then on). */
  markSent: 'UPDATE messages SET sent_at = coalesce(sent_at, ?) WHERE id = ?',
  /** Published in-app messages shown neither in this widget session nor to this person (:person NULL: anonymous). */
  unseenInApp: `SELECT m.* FROM messages m
                WHERE m.channel = 'in_app' AND m.sent_at IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND (r.visitor_id = :visitor OR r.person_id = :person))
                ORDER BY m.sent_at, m.id`,
  /** A refused first send: nobody was ever sent to (nor skipped), so it is still a draft. */
  unmarkSent: `UPDATE messages SET sent_at = NULL
               WHERE id = ? AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = messages.id AND r.status <> 'pending')`,
} as const;

export const linksSql = {
  insert: 'INSERT INTO links (message_id, position, part, url, text, tracked, reason) VALUES (?, ?, ?, ?, ?, ?, ?)',
  insertHoneypot: `INSERT INTO links (message_id, position, part, url, text, tracked, honeypot) VALUES (?, -1, 'html', '', '', 1, 1)`,
  ofMessage: 'SELECT * FROM links WHERE message_id = ? ORDER BY position',
  /** A draft's placements, replaced by an edit or removed with it. */
  deleteOfMessage: 'DELETE FROM links WHERE message_id = ?',
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
