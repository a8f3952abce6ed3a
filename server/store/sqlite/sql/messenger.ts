import { PERSON_EMAIL } from './people.ts';

/** visitors: the widget's sessions, and who each one is now. */
export const visitorsSql = {
  insert: 'INSERT INTO visitors (secret_hash, created_at, seen_at) VALUES (?, ?, ?)',
  byId: 'SELECT * FROM visitors WHERE id = ?',
  identify: 'UPDATE visitors SET person_id = ?, identified_by = ?, recipient_id = ?, link_id = ?, seen_at = ? WHERE id = ?',
} as const;

const CONVERSATION_SELECT = `
  SELECT c.*, p.name AS p_name, ${PERSON_EMAIL} AS p_email
  FROM conversations c LEFT JOIN people p ON p.id = c.person_id`;

/** The visibility rule of VisitorScope (parameters :visitor and :verified). */
const VISIBLE = `((c.identified_by IS NOT 'verified' AND c.visitor_id = :visitor)
  OR (c.identified_by = 'verified' AND c.person_id = :verified))`;

/** conversations and conversation_messages. */
export const conversationsSql = {
  insert: `INSERT INTO conversations (visitor_id, person_id, identified_by, page_url, started_at, last_message_at, last_message)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
  byId: `${CONVERSATION_SELECT} WHERE c.id = ?`,
  newest: `${CONVERSATION_SELECT} ORDER BY c.last_message_at DESC, c.id DESC LIMIT ?`,
  visible: `${CONVERSATION_SELECT} WHERE ${VISIBLE} ORDER BY c.last_message_at DESC, c.id DESC LIMIT :limit`,
  touch: 'UPDATE conversations SET last_message_at = ?, last_message = ? WHERE id = ?',
  /** A visitor's conversations started before anyone knew who they were now name them. */
  attach: 'UPDATE conversations SET person_id = ?, identified_by = ? WHERE visitor_id = ? AND person_id IS NULL',
} as const;

export const conversationMessagesSql = {
  insert: 'INSERT INTO conversation_messages (conversation_id, author, body, client_id, at) VALUES (?, ?, ?, ?, ?) RETURNING *',
  byClientId: 'SELECT * FROM conversation_messages WHERE client_id = ?',
  ofConversation: 'SELECT * FROM conversation_messages WHERE conversation_id = ? ORDER BY id',
  visibleAfter: `SELECT m.* FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.id > :after AND ${VISIBLE} ORDER BY m.id LIMIT :limit`,
  lastId: 'SELECT coalesce(max(id), 0) AS id FROM conversation_messages',
} as const;

/** visits: identified leads' page loads. */
export const visitsSql = {
  recent: 'SELECT 1 FROM visits WHERE person_id = ? AND url = ? AND at >= ? LIMIT 1',
  insert: 'INSERT INTO visits (visitor_id, person_id, url, referrer, recipient_id, link_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
} as const;

/** Now in Unix milliseconds, by the database's clock: the one clock every node of the lease agrees on. */
const NOW_MS = `CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`;

/**
 * team_events (the team's event log) and webhook_cursor (how far webhooks have delivered it,
 * and which node's lease it is to deliver).
 */
export const teamEventsSql = {
  insert: 'INSERT INTO team_events (type, data, at) VALUES (?, ?, ?)',
  after: 'SELECT * FROM team_events WHERE id > ? ORDER BY id LIMIT ?',
  lastId: 'SELECT coalesce(max(id), 0) AS id FROM team_events',
  webhookCursor: 'SELECT delivered_through FROM webhook_cursor WHERE id = 1',
  /** Free, this node's, or run out: this node's for :ms more (a row made here starts at 0, as a missing one read). Returns a row when held. */
  takeWebhookLease: `INSERT INTO webhook_cursor (id, delivered_through, holder, lease_until) VALUES (1, 0, :node, ${NOW_MS} + :ms)
                     ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until
                     WHERE holder IS NULL OR holder = excluded.holder OR lease_until <= ${NOW_MS}
                     RETURNING holder`,
  releaseWebhookLease: 'UPDATE webhook_cursor SET holder = NULL, lease_until = NULL WHERE id = 1 AND holder = ?',
  /** Only by the lease's holder: a node that lost it while it delivered moves nothing. */
  moveWebhookCursor: `UPDATE webhook_cursor SET delivered_through = max(delivered_through, :id)
                      WHERE id = 1 AND holder = :node RETURNING id`,
} as const;

/** person_events: events done by people, for goals. */
export const personEventsSql = {
  insert: 'INSERT INTO person_events (person_id, name, source, at) VALUES (?, ?, ?, ?)',
} as const;
