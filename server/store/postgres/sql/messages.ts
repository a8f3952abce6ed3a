/** messages and their links (the honeypot is a link too, with honeypot = 1). */
export const messagesSql = {
  insert: `INSERT INTO messages (subject, html, text, kind, from_address, reply_to, goal_event, goal_within_days, compiled, channel, audience, push, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
  byId: 'SELECT * FROM messages WHERE id = $1',
  newest: 'SELECT * FROM messages ORDER BY created_at DESC, id DESC LIMIT $1',
  /** A draft's new content: nothing at all once its first send has started (the row stays locked to the commit). */
  updateDraft: `UPDATE messages SET subject = $1, html = $2, text = $3, kind = $4, from_address = $5, reply_to = $6, goal_event = $7,
                  goal_within_days = $8, compiled = $9
                WHERE id = $10 AND sent_at IS NULL RETURNING id`,
  deleteDraft: 'DELETE FROM messages WHERE id = $1 AND sent_at IS NULL',
  /** Whether a message is there, and sent: what a refused edit or deletion tells apart. */
  sentAt: 'SELECT sent_at FROM messages WHERE id = $1',
  /** The message locked to the transaction's end: a send's claim and an edit or deletion of a draft take turns on it. */
  lock: 'SELECT sent_at FROM messages WHERE id = $1 FOR UPDATE',
  /** The first send or publication starts (its time is kept from then on). */
  markSent: 'UPDATE messages SET sent_at = coalesce(sent_at, $2) WHERE id = $1',
  /** Published in-app messages shown neither in this widget session ($1) nor to this person ($2, NULL: anonymous). */
  unseenInApp: `SELECT m.* FROM messages m
                WHERE m.channel = 'in_app' AND m.sent_at IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND (r.visitor_id = $1 OR r.person_id = $2::bigint))
                ORDER BY m.sent_at, m.id`,
  /** A refused first send: nobody was ever sent to (nor skipped), so it is still a draft. */
  unmarkSent: `UPDATE messages SET sent_at = NULL
               WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = messages.id AND r.status <> 'pending')`,
} as const;

export const linksSql = {
  /** All of a message's links in one statement, in the order given. */
  insert: `INSERT INTO links (message_id, position, part, url, text, tracked, reason)
           SELECT $1, position, part, url, text, tracked, reason
           FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[]) WITH ORDINALITY AS u(position, part, url, text, tracked, reason, i)
           ORDER BY i`,
  insertHoneypot: `INSERT INTO links (message_id, position, part, url, text, tracked, honeypot) VALUES ($1, -1, 'html', '', '', 1, 1)`,
  ofMessage: 'SELECT * FROM links WHERE message_id = $1 ORDER BY position',
  ofMessages: 'SELECT * FROM links WHERE message_id = ANY($1::bigint[]) ORDER BY message_id, position',
  /** A draft's placements, replaced by an edit or removed with it. */
  deleteOfMessage: 'DELETE FROM links WHERE message_id = $1',
  /** What the redirect needs: the link, and how many tracked links its message has (for the burst rule). */
  target: `SELECT l.id, l.message_id, msg.channel, l.url, l.tracked, l.honeypot,
             (SELECT count(*) FROM links m WHERE m.message_id = l.message_id AND m.tracked = 1 AND m.honeypot = 0) AS tracked_links
           FROM links l JOIN messages msg ON msg.id = l.message_id WHERE l.id = $1`,
  /**
   * What the click ingest needs of the links a batch names: links never change once made, so it
   * keeps them. tracked_links as in trackedOfMessages.
   */
  targets: `SELECT l.id, l.message_id, l.honeypot,
              (SELECT count(*) FROM links m WHERE m.message_id = l.message_id AND m.tracked = 1 AND m.honeypot = 0
                 AND msg.channel = 'email') AS tracked_links
            FROM links l JOIN messages msg ON msg.id = l.message_id WHERE l.id = ANY($1::bigint[])`,
  /**
   * How many tracked links a message has, the honeypot aside: the links a burst is made of.
   * Only an email's: a burst is a mail scanner's walk, which an in-app card or a push never gets.
   */
  trackedOfMessages: `SELECT l.message_id, count(*) AS tracked FROM links l JOIN messages m ON m.id = l.message_id
                      WHERE l.message_id = ANY($1::bigint[]) AND l.tracked = 1 AND l.honeypot = 0 AND m.channel = 'email'
                      GROUP BY l.message_id`,
  /** A click's origin for the team: the message and the link's destination. */
  clickOrigin: `SELECT m.id AS "messageId", m.subject AS subject, l.url AS "linkUrl"
                FROM recipients r JOIN messages m ON m.id = r.message_id
                LEFT JOIN links l ON l.id = $1 AND l.message_id = m.id
                WHERE r.id = $2`,
} as const;
