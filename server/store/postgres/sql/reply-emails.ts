/** reply_emails: mails of team replies a visitor had not seen, each claimed before it is sent. */
export const replyEmailsSql = {
  /** A new claim: being sent, first attempt. */
  insert: `INSERT INTO reply_emails (conversation_id, after_id, through_id, status, attempts, created_at, claimed_at)
           VALUES ($1, $2, $3, 'sending', 1, $4, $5) RETURNING *`,
  /**
   * Claims again ($1 now): one still sending since $2 (its process died mid-send), or one that
   * failed, claimed before $4, with fewer than $3 attempts; at most $5. Rows another node is
   * claiming are skipped, not claimed twice.
   */
  reclaim: `UPDATE reply_emails SET status = 'sending', attempts = attempts + 1, claimed_at = $1
            WHERE id IN (SELECT id FROM reply_emails WHERE status IN ('sending', 'failed') AND claimed_at < GREATEST($2::bigint, $4::bigint)
                           AND ((status = 'sending' AND claimed_at < $2) OR (status = 'failed' AND attempts < $3 AND claimed_at < $4))
                         ORDER BY claimed_at LIMIT $5 FOR UPDATE SKIP LOCKED)
            RETURNING *`,
  /** How the attempt ended: sent, failed (with why), or seen (the visitor saw the replies first: not sent). */
  finish: 'UPDATE reply_emails SET status = $1, sent_at = $2, error = $3 WHERE id = $4',
  ofConversation: 'SELECT * FROM reply_emails WHERE conversation_id = $1 ORDER BY id',
  /** Where its link goes. */
  target: `SELECT r.conversation_id, r.sent_at, c.page_url FROM reply_emails r JOIN conversations c ON c.id = r.conversation_id
           WHERE r.id = $1`,
  /** Its link was followed by a person: the first time is kept. */
  followed: 'UPDATE reply_emails SET clicked_at = coalesce(clicked_at, $1) WHERE id = $2',
} as const;
