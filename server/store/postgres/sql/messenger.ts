import { PERSON_EMAIL } from './people.ts';

/** visitors: the widget's sessions, and who each one is now. */
export const visitorsSql = {
  insert: 'INSERT INTO visitors (secret_hash, created_at, seen_at) VALUES ($1, $2, $3) RETURNING id',
  byId: 'SELECT * FROM visitors WHERE id = $1',
  identify: 'UPDATE visitors SET person_id = $1, identified_by = $2, recipient_id = $3, link_id = $4, seen_at = $5 WHERE id = $6',
} as const;

const CONVERSATION_SELECT = `
  SELECT c.*, p.name AS p_name, ${PERSON_EMAIL} AS p_email
  FROM conversations c LEFT JOIN people p ON p.id = c.person_id`;

/** The visibility rule of VisitorScope, its visitor and verified person the parameters numbered. */
const visible = (visitor: string, verified: string) => `((c.identified_by IS DISTINCT FROM 'verified' AND c.visitor_id = ${visitor})
  OR (c.identified_by = 'verified' AND c.person_id = ${verified}))`;

/** conversations and conversation_messages. */
export const conversationsSql = {
  insert: `INSERT INTO conversations (visitor_id, person_id, identified_by, page_url, started_at, last_message_at, last_message)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
  byId: `${CONVERSATION_SELECT} WHERE c.id = $1`,
  newest: `${CONVERSATION_SELECT} ORDER BY c.last_message_at DESC, c.id DESC LIMIT $1`,
  visible: `${CONVERSATION_SELECT} WHERE ${visible('$1', '$2::bigint')} ORDER BY c.last_message_at DESC, c.id DESC LIMIT $3`,
  touch: 'UPDATE conversations SET last_message_at = $1, last_message = $2 WHERE id = $3',
  /** A visitor's conversations started before anyone knew who they were now name them. */
  attach: 'UPDATE conversations SET person_id = $1, identified_by = $2 WHERE visitor_id = $3 AND person_id IS NULL',
} as const;

export const conversationMessagesSql = {
  insert: 'INSERT INTO conversation_messages (conversation_id, author, body, client_id, at) VALUES ($1, $2, $3, $4, $5) RETURNING *',
  byClientId: 'SELECT * FROM conversation_messages WHERE client_id = $1',
  ofConversation: 'SELECT * FROM conversation_messages WHERE conversation_id = $1 ORDER BY id',
  /** The messages of many conversations at once (a visitor's list), in order. */
  ofConversations: 'SELECT * FROM conversation_messages WHERE conversation_id = ANY($1::bigint[]) ORDER BY conversation_id, id',
  visibleAfter: `SELECT m.* FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.id > $1 AND ${visible('$2', '$3::bigint')} ORDER BY m.id LIMIT $4`,
  lastId: 'SELECT coalesce(max(id), 0) AS id FROM conversation_messages',
} as const;

/** visits: identified leads' page loads. */
export const visitsSql = {
  recent: 'SELECT 1 FROM visits WHERE person_id = $1 AND url = $2 AND at >= $3 LIMIT 1',
  insert: 'INSERT INTO visits (visitor_id, person_id, url, referrer, recipient_id, link_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
} as const;

/** Now in Unix milliseconds, by the database's clock: the one clock every node of the lease agrees on. */
const NOW_MS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

/**
 * team_events (the team's event log) and webhook_cursor (how far webhooks have delivered it,
 * and which node's lease it is to deliver).
 */
export const teamEventsSql = {
  insert: 'INSERT INTO team_events (type, data, at) VALUES ($1, $2, $3) RETURNING id',
  after: 'SELECT * FROM team_events WHERE id > $1 ORDER BY id LIMIT $2',
  lastId: 'SELECT coalesce(max(id), 0) AS id FROM team_events',
  webhookCursor: 'SELECT delivered_through FROM webhook_cursor WHERE id = 1',
  /**
   * Free, this node's, or run out: this node's for $2 ms more (a row made here starts at 0, as a
   * missing one read). Returns a row when held. Two nodes at once: the second waits for the
   * first's row lock and then sees its lease.
   */
  takeWebhookLease: `INSERT INTO webhook_cursor (id, delivered_through, holder, lease_until) VALUES (1, 0, $1, ${NOW_MS} + $2::bigint)
                     ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until
                     WHERE webhook_cursor.holder IS NULL OR webhook_cursor.holder = excluded.holder OR webhook_cursor.lease_until <= ${NOW_MS}
                     RETURNING holder`,
  releaseWebhookLease: 'UPDATE webhook_cursor SET holder = NULL, lease_until = NULL WHERE id = 1 AND holder = $1',
  /** Only by the lease's holder: a node that lost it while it delivered moves nothing. */
  moveWebhookCursor: `UPDATE webhook_cursor SET delivered_through = GREATEST(delivered_through, $1)
                      WHERE id = 1 AND holder = $2 RETURNING id`,
} as const;

/** person_events: events done by people, for goals. */
export const personEventsSql = {
  insert: 'INSERT INTO person_events (person_id, name, source, at) VALUES ($1, $2, $3, $4)',
} as const;
