/**
 * Whether a recipient of a marketing email has an address on the suppression list: such a
 * recipient is skipped by a send.
 */
const SUPPRESSED = `EXISTS (SELECT 1 FROM messages m JOIN suppressions s ON s.email = lower(recipients.email COLLATE "C")
                    WHERE m.id = recipients.message_id AND m.kind = 'marketing' AND m.channel = 'email')`;

/** recipients: a person on a message, their delivery, and the counters the click ingest keeps on them. */
export const recipientsSql = {
  /**
   * A send cut short by a crash left its claims behind: give back those of the nodes named
   * ($1), and with $2 those from before claims named their node.
   */
  releaseClaims: `UPDATE recipients SET status = 'pending'
                  WHERE status = 'sending' AND (claimed_by = ANY($1::text[]) OR ($2 AND claimed_by IS NULL))`,
  byMessageAndPerson: 'SELECT id FROM recipients WHERE message_id = $1 AND person_id = $2',
  insert: 'INSERT INTO recipients (message_id, person_id, email, name, attributes, added_at) VALUES ($1, $2, $3, $4, $5, $6)',
  update: 'UPDATE recipients SET name = $1, attributes = $2 WHERE id = $3',
  /** Of these people, those already on the message (addRecipients updates them). */
  ofPeople: 'SELECT id, person_id FROM recipients WHERE message_id = $1 AND person_id = ANY($2::bigint[])',
  /** update, for many at once. */
  updateMany: `UPDATE recipients r SET name = u.name, attributes = u.attributes
               FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, name, attributes) WHERE r.id = u.id`,
  /** insert, for many at once, in the order given (ids too). */
  insertMany: `INSERT INTO recipients (message_id, person_id, email, name, attributes, added_at)
               SELECT $1, person_id, email, name, attributes, $6
               FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(person_id, email, name, attributes, i) ORDER BY i`,
  byId: 'SELECT * FROM recipients WHERE id = $1',
  byEmail: `SELECT r.* FROM recipients r JOIN people p ON p.id = r.person_id
            WHERE r.message_id = $1 AND lower(p.email COLLATE "C") = lower($2 COLLATE "C")`,
  first: 'SELECT * FROM recipients WHERE message_id = $1 ORDER BY id LIMIT 1',
  /** Delivery: pending counts the ones being sent. */
  delivery: `SELECT count(*) AS recipients, count(*) FILTER (WHERE status IN ('pending', 'sending')) AS pending,
               count(*) FILTER (WHERE status = 'sent') AS sent, count(*) FILTER (WHERE status = 'failed') AS failed,
               count(*) FILTER (WHERE status = 'skipped') AS skipped
             FROM recipients WHERE message_id = $1`,
  /** Every unsent one, at once: being sent, or skipped (not an attempt) when suppressed. */
  claimUnsent: `UPDATE recipients SET status = CASE WHEN ${SUPPRESSED} THEN 'skipped' ELSE 'sending' END,
                  attempts = attempts + CASE WHEN ${SUPPRESSED} THEN 0 ELSE 1 END, claimed_by = $2
                WHERE message_id = $1 AND status IN ('pending', 'failed', 'skipped') RETURNING *`,
  /** Claimed (or skipped) recipients not sent after all (the send was refused): unsent again, as if never claimed. */
  release: `UPDATE recipients SET status = 'pending', attempts = attempts - CASE WHEN status = 'sending' THEN 1 ELSE 0 END
            WHERE id = ANY($1::bigint[]) AND status IN ('sending', 'skipped')`,
  sent: `UPDATE recipients SET status = 'sent', sent_at = $1, error = NULL WHERE id = $2`,
  failed: `UPDATE recipients SET status = 'failed', error = $1 WHERE id = $2`,
  /** A push payload handed out: sent at the first time. */
  pushed: `UPDATE recipients SET status = 'sent', sent_at = coalesce(sent_at, $1), error = NULL WHERE id = $2`,
  /**
   * An in-app message shown now ($1 message, $2 person or NULL, $3 visitor, $6 time): a recipient
   * row sent at this time, unless it was shown to this widget session or this person before (or
   * another boot, on any node, makes the row at the same moment: the unique keys keep one).
   */
  showInApp: `INSERT INTO recipients (message_id, person_id, visitor_id, email, name, added_at, status, sent_at)
              SELECT $1::bigint, $2::bigint, $3::bigint, $4::text, $5::text, $6::bigint, 'sent', $6::bigint
              WHERE NOT EXISTS (SELECT 1 FROM recipients WHERE message_id = $1::bigint AND (visitor_id = $3::bigint OR person_id = $2::bigint))
              ON CONFLICT DO NOTHING
              RETURNING *`,
  dismissInApp: 'UPDATE recipients SET dismissed_at = coalesce(dismissed_at, $1) WHERE message_id = $2 AND visitor_id = $3 RETURNING id',
  /** The first unsubscribe is the one kept. */
  unsubscribe: 'UPDATE recipients SET unsubscribed_at = coalesce(unsubscribed_at, $1) WHERE id = $2 RETURNING id',
  unsubscribes: 'SELECT count(*) AS n FROM recipients WHERE message_id = $1 AND unsubscribed_at IS NOT NULL',
  /** A draft's counters, reset when its content is replaced: clicks on its previews were on links that are gone. */
  resetCounts: 'UPDATE recipients SET human_opens = 0, opened_at = NULL WHERE message_id = $1',
  deleteOfMessage: 'DELETE FROM recipients WHERE message_id = $1',
  /**
   * Human clicks so far (taken back ones subtract), the sum of the recipient's pairs': none
   * left tells a unique clicker less. No row: the database does not have the recipient.
   */
  humanClicks: `SELECT (SELECT coalesce(sum(human), 0) FROM recipient_link_counts WHERE recipient_id = $1) AS human_clicks
                FROM recipients WHERE id = $1`,
  /** Of these recipients, those the database does not have. */
  missing: 'SELECT u.id FROM unnest($1::bigint[]) AS u(id) WHERE NOT EXISTS (SELECT 1 FROM recipients r WHERE r.id = u.id)',
  /**
   * SQLite's countOpen for a whole run of a batch, one row per recipient with human opens in
   * it: those whose first human open it is (a unique opener of the message).
   */
  countOpens: `WITH counted AS (
                 UPDATE recipients r SET human_opens = r.human_opens + u.opens, opened_at = coalesce(r.opened_at, u.opened_at)
                 FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(id, opens, opened_at)
                 WHERE r.id = u.id
                 RETURNING r.id, r.human_opens - u.opens AS before)
               SELECT id FROM counted WHERE before = 0`,
  /** A goal counts once, the first time the person does the event within the window after their send. */
  reachGoal: `UPDATE recipients SET goal_at = $1
              WHERE person_id = $2 AND goal_at IS NULL AND sent_at IS NOT NULL AND sent_at <= $1
                AND message_id IN (
                  SELECT m.id FROM messages m
                  WHERE m.id = recipients.message_id AND m.goal_event = $3
                    AND $1 <= recipients.sent_at + m.goal_within_days * 86400000::bigint)`,
  goalsReached: 'SELECT count(*) AS n FROM recipients WHERE message_id = $1 AND goal_at IS NOT NULL',
  ofMessage: 'SELECT id, email, name, sent_at, opened_at, goal_at, dismissed_at, unsubscribed_at FROM recipients WHERE message_id = $1 ORDER BY id',
} as const;
