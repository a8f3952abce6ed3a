/**
 * Whether a recipient of a marketing email has an address on the suppression list: such a
 * recipient is skipped by a send.
 */
const SUPPRESSED = `EXISTS (SELECT 1 FROM messages m JOIN suppressions s ON s.email = lower(recipients.email)
                    WHERE m.id = recipients.message_id AND m.kind = 'marketing' AND m.channel = 'email')`;

/** recipients: a person on a message, their delivery, and the counters the click ingest keeps on them. */
export const recipientsSql = {
  /**
   * A send cut short by a crash left its claims behind: give back those of the nodes named
   * (:nodes, a JSON array), and with :unnamed those from before claims named their node.
   */
  releaseClaims: `UPDATE recipients SET status = 'pending'
                  WHERE status = 'sending' AND (claimed_by IN (SELECT value FROM json_each(:nodes)) OR (:unnamed AND claimed_by IS NULL))`,
  byMessageAndPerson: 'SELECT id FROM recipients WHERE message_id = ? AND person_id = ?',
  insert: 'INSERT INTO recipients (message_id, person_id, email, name, attributes, added_at) VALUES (?, ?, ?, ?, ?, ?)',
  update: 'UPDATE recipients SET name = ?, attributes = ? WHERE id = ?',
  byId: 'SELECT * FROM recipients WHERE id = ?',
  byEmail: 'SELECT r.* FROM recipients r JOIN people p ON p.id = r.person_id WHERE r.message_id = ? AND p.email = ?',
  first: 'SELECT * FROM recipients WHERE message_id = ? ORDER BY id LIMIT 1',
  /** Delivery: pending counts the ones being sent. */
  delivery: `SELECT count(*) AS recipients, count(*) FILTER (WHERE status IN ('pending', 'sending')) AS pending,
               count(*) FILTER (WHERE status = 'sent') AS sent, count(*) FILTER (WHERE status = 'failed') AS failed,
               count(*) FILTER (WHERE status = 'skipped') AS skipped
             FROM recipients WHERE message_id = ?`,
  /** Every unsent one, at once: being sent, or skipped (not an attempt) when suppressed. */
  claimUnsent: `UPDATE recipients SET status = CASE WHEN ${SUPPRESSED} THEN 'skipped' ELSE 'sending' END,
                  attempts = attempts + CASE WHEN ${SUPPRESSED} THEN 0 ELSE 1 END, claimed_by = :node
                WHERE message_id = :message AND status IN ('pending', 'failed', 'skipped') RETURNING *`,
  release: `UPDATE recipients SET status = 'pending', attempts = attempts - (status = 'sending')
            WHERE id = ? AND status IN ('sending', 'skipped')`,
  sent: `UPDATE recipients SET status = 'sent', sent_at = ?, error = NULL WHERE id = ?`,
  failed: `UPDATE recipients SET status = 'failed', error = ? WHERE id = ?`,
  /** A push payload handed out: sent at the first time. */
  pushed: `UPDATE recipients SET status = 'sent', sent_at = coalesce(sent_at, ?), error = NULL WHERE id = ?`,
  /**
   * An in-app message shown now: a recipient row sent at this time, unless it was shown to this
   * widget session or this person before (or another boot makes the row at the same moment).
   */
  showInApp: `INSERT INTO recipients (message_id, person_id, visitor_id, email, name, added_at, status, sent_at)
              SELECT :message, :person, :visitor, :email, :name, :at, 'sent', :at
              WHERE NOT EXISTS (SELECT 1 FROM recipients WHERE message_id = :message AND (visitor_id = :visitor OR person_id = :person))
              ON CONFLICT DO NOTHING
              RETURNING *`,
  dismissInApp: 'UPDATE recipients SET dismissed_at = coalesce(dismissed_at, ?) WHERE message_id = ? AND visitor_id = ? RETURNING id',
  /** The first unsubscribe is the one kept. */
  unsubscribe: 'UPDATE recipients SET unsubscribed_at = coalesce(unsubscribed_at, ?) WHERE id = ? RETURNING id',
  unsubscribes: 'SELECT count(*) AS n FROM recipients WHERE message_id = ? AND unsubscribed_at IS NOT NULL',
  /**
   * Human clicks so far (taken back ones subtract), the sum of the recipient's pairs': the
   * first tells a unique clicker, none left one less. No row: the database does not have the recipient.
   */
  humanClicks: `SELECT (SELECT coalesce(sum(human), 0) FROM recipient_link_counts WHERE recipient_id = :id) AS human_clicks
                FROM recipients WHERE id = :id`,
  countOpen: 'UPDATE recipients SET human_opens = human_opens + 1, opened_at = coalesce(opened_at, ?) WHERE id = ? RETURNING human_opens',
  /** A draft's counters, reset when its content is replaced: clicks on its previews were on links that are gone. */
  resetCounts: 'UPDATE recipients SET human_opens = 0, opened_at = NULL WHERE message_id = ?',
  deleteOfMessage: 'DELETE FROM recipients WHERE message_id = ?',
  /** A goal counts once, the first time the person does the event within the window after their send. */
  reachGoal: `UPDATE recipients SET goal_at = :at
              WHERE person_id = :person AND goal_at IS NULL AND sent_at IS NOT NULL AND sent_at <= :at
                AND message_id IN (
                  SELECT m.id FROM messages m
                  WHERE m.id = recipients.message_id AND m.goal_event = :name
                    AND :at <= recipients.sent_at + m.goal_within_days * 86400000)`,
  goalsReached: 'SELECT count(*) AS n FROM recipients WHERE message_id = ? AND goal_at IS NOT NULL',
  ofMessage: 'SELECT id, email, name, sent_at, opened_at, goal_at, dismissed_at, unsubscribed_at FROM recipients WHERE message_id = ? ORDER BY id',
} as const;
