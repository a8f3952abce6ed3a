/** suppressions: addresses (lower-cased) that no marketing email goes to, and why. */
export const suppressionsSql = {
  /** The recipient's address, unless it is on the list already (the first reason stands). */
  addRecipient: `INSERT INTO suppressions (email, reason, message_id, recipient_id, at)
                 SELECT lower(email), 'unsubscribed', message_id, id, ? FROM recipients WHERE id = ?
                 ON CONFLICT (email) DO NOTHING`,
  newest: 'SELECT email, reason, message_id, at FROM suppressions ORDER BY at DESC, email LIMIT ?',
  delete: 'DELETE FROM suppressions WHERE email = ?',
  /** A deleted draft's (its preview's unsubscribe link was followed): the address stays suppressed. */
  forgetMessage: 'UPDATE suppressions SET message_id = NULL, recipient_id = NULL WHERE message_id = ?',
} as const;
