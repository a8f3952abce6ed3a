import { EMAIL_KEY } from './people.ts';

/** suppressions: addresses (lower-cased as SQLite's NOCASE folds them) that no marketing email goes to, and why. */
export const suppressionsSql = {
  /** The recipient's address, unless it is on the list already (the first reason stands). */
  addRecipient: `INSERT INTO suppressions (email, reason, message_id, recipient_id, at)
                 SELECT ${EMAIL_KEY}, 'unsubscribed', message_id, id, $1 FROM recipients WHERE id = $2
                 ON CONFLICT (email) DO NOTHING`,
  newest: 'SELECT email, reason, message_id, at FROM suppressions ORDER BY at DESC, email LIMIT $1',
  delete: 'DELETE FROM suppressions WHERE email = $1',
  /** A deleted draft's (its preview's unsubscribe link was followed): the address stays suppressed. */
  forgetMessage: 'UPDATE suppressions SET message_id = NULL, recipient_id = NULL WHERE message_id = $1',
} as const;
