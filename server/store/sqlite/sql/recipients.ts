/** recipients: a person on a message, their delivery, and the counters the click ingest keeps on them. */
export const recipientsSql = {
  /** A send cut short by a crash left its claims behind: give them back. */
  releaseClaims: `UPDATE recipients SET status = 'pending' WHERE status = 'sending'`,
  byMessageAndPerson: 'SELECT id FROM recipients WHERE message_id = ? AND person_id = ?',
  insert: 'INSERT INTO recipients (message_id, person_id, email, name, attributes, added_at) VALUES (?, ?, ?, ?, ?, ?)',
  update: 'UPDATE recipients SET name = ?, attributes = ? WHERE id = ?',
  byId: 'SELECT * FROM recipients WHERE id = ?',
  byEmail: 'SELECT r.* FROM recipients r JOIN people p ON p.id = r.person_id WHERE r.message_id = ? AND p.email = ?',
  person: 'SELECT person_id FROM recipients WHERE id = ?',
  count: `SELECT count(*) AS recipients, count(*) FILTER (WHERE status = 'sent') AS sent FROM recipients WHERE message_id = ?`,
  claimUnsent: `UPDATE recipients SET status = 'sending', attempts = attempts + 1
                WHERE message_id = ? AND status IN ('pending', 'failed') RETURNING *`,
  release: `UPDATE recipients SET status = 'pending', attempts = attempts - 1 WHERE id = ? AND status = 'sending'`,
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
  /** Human clicks so far (taken back ones subtract): the first tells a unique clicker. */
  countClicks: 'UPDATE recipients SET human_clicks = human_clicks + ? WHERE id = ? RETURNING human_clicks',
  countOpen: 'UPDATE recipients SET human_opens = human_opens + 1, opened_at = coalesce(opened_at, ?) WHERE id = ? RETURNING human_opens',
  /** A goal counts once, the first time the person does the event within the window after their send. */
  reachGoal: `UPDATE recipients SET goal_at = :at
              WHERE person_id = :person AND goal_at IS NULL AND sent_at IS NOT NULL AND sent_at <= :at
                AND message_id IN (
                  SELECT m.id FROM messages m
                  WHERE m.id = recipients.message_id AND m.goal_event = :name
                    AND :at <= recipients.sent_at + m.goal_within_days * 86400000)`,
  goalsReached: 'SELECT count(*) AS n FROM recipients WHERE message_id = ? AND goal_at IS NOT NULL',
  ofMessage: 'SELECT id, email, name, sent_at, opened_at, goal_at, dismissed_at FROM recipients WHERE message_id = ? ORDER BY id',
} as const;
