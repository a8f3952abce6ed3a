/** reply_emails: mails of team replies a visitor had not seen, each claimed before it is sent. */
export const replyEmailsSql = {
  /** A new claim: being sent, first attempt. */
  insert: `INSERT INTO reply_emails (conversation_id, after_id, through_id, status, attempts, created_at, claimed_at)
           VALUES (?, ?, ?, 'sending', 1, ?, ?) RETURNING *`,
  /**
   * Claims again: one still sending since :abandoned (its process died mid-send), or one that
   * failed, claimed before :retry, with attempts left.
   */
  reclaim: `UPDATE reply_emails SET status = 'sending', attempts = attempts + 1, claimed_at = :now
            WHERE id IN (SELECT id FROM reply_emails WHERE status IN ('sending', 'failed') AND claimed_at < max(:abandoned, :retry)
                           AND ((status = 'sending' AND claimed_at < :abandoned) OR (status = 'failed' AND attempts < :attempts AND claimed_at < :retry))
                         ORDER BY claimed_at LIMIT :limit)
            RETURNING *`,
  /** How the attempt ended: sent, failed (with why), or seen (the visitor saw the replies first: not sent). */
  finish: 'UPDATE reply_emails SET status = ?, sent_at = ?, error = ? WHERE id = ?',
  ofConversation: 'SELECT * FROM reply_emails WHERE conversation_id = ? ORDER BY id',
  /** Where its link goes. */
  target: `SELECT r.conversation_id, r.sent_at, c.page_url FROM reply_emails r JOIN conversations c ON c.id = r.conversation_id
           WHERE r.id = ?`,
  /** Its link was followed by a person: the first time is kept. */
  followed: 'UPDATE reply_emails SET clicked_at = coalesce(clicked_at, ?) WHERE id = ?',
} as const;
