import { PERSON_EMAIL } from './people.ts';

/** visitors: the widget's sessions, and who each one is now. */
export const visitorsSql = {
  insert: 'INSERT INTO visitors (secret_hash, created_at, seen_at) VALUES (?, ?, ?)',
  byId: 'SELECT * FROM visitors WHERE id = ?',
  identify: 'UPDATE visitors SET person_id = ?, identified_by = ?, recipient_id = ?, link_id = ?, seen_at = ? WHERE id = ?',
  /** An address the visitor left for replies: on the session alone, never a person. */
  setContactEmail: 'UPDATE visitors SET contact_email = ? WHERE id = ?',
} as const;

const CONVERSATION_SELECT = `
  SELECT c.*, p.name AS p_name, ${PERSON_EMAIL} AS p_email
  FROM conversations c LEFT JOIN people p ON p.id = c.person_id`;

/** The visibility rule of VisitorScope (parameters :visitor and :verified). */
const VISIBLE = `((c.identified_by IS NOT 'verified' AND c.visitor_id = :visitor)
  OR (c.identified_by = 'verified' AND c.person_id = :verified))`;

/**
 * Where a conversation's replies are mailed: the person's email (a lead's, or the one a verified
 * user gave), else an address its visitor left. Over conversations c, visitors v, people p.
 */
const REPLY_ADDRESS = `coalesce(${PERSON_EMAIL}, v.contact_email)`;

/** The time of a conversation's oldest team reply neither seen nor taken for mailing (null: none), in an UPDATE of conversations. */
const FIRST_UNSEEN_REPLY = `(SELECT m.at FROM conversation_messages m WHERE m.conversation_id = conversations.id AND m.author = 'team'
  AND m.id > max(conversations.seen_through, conversations.mailed_through) ORDER BY m.id LIMIT 1)`;

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

  // Replies by email.
  /** A team reply was written: a reply waits to be seen, since the oldest one that does. */
  replyWaiting: 'UPDATE conversations SET unseen_reply_at = coalesce(unseen_reply_at, ?) WHERE id = ?',
  /** The visitor saw the thread up to a message: never moved back, never past the thread's own last message. */
  seen: `UPDATE conversations SET seen_through = max(seen_through, coalesce(
           (SELECT max(id) FROM conversation_messages WHERE conversation_id = :id AND id <= :through), 0))
         WHERE id = :id`,
  /** Which reply waits now (after a seen, or an address that became known): the oldest one past what was seen and mailed. */
  findUnseenReply: `UPDATE conversations SET unseen_reply_at = ${FIRST_UNSEEN_REPLY} WHERE id = ?`,
  findUnseenRepliesOfVisitor: `UPDATE conversations SET unseen_reply_at = ${FIRST_UNSEEN_REPLY} WHERE visitor_id = ? AND unseen_reply_at IS NULL`,
  /** Conversations whose oldest unseen reply was written by :due, oldest first. */
  repliesDue: 'SELECT id FROM conversations WHERE unseen_reply_at <= ? ORDER BY unseen_reply_at LIMIT ?',
  /** A due conversation's batch: the replies after `after` up to `through`, waiting since `waiting_since`; `addressed`: someone to mail. */
  replyBatch: `SELECT max(c.seen_through, c.mailed_through) AS after, c.unseen_reply_at AS waiting_since,
                 coalesce((SELECT max(id) FROM conversation_messages WHERE conversation_id = c.id AND author = 'team'), 0) AS through,
                 ${REPLY_ADDRESS} IS NOT NULL AS addressed
               FROM conversations c JOIN visitors v ON v.id = c.visitor_id LEFT JOIN people p ON p.id = c.person_id
               WHERE c.id = ?`,
  /** Its replies up to this one are taken for mailing: nothing waits until the next reply. */
  repliesTaken: 'UPDATE conversations SET mailed_through = max(mailed_through, ?), unseen_reply_at = NULL WHERE id = ?',
  /** Nobody to mail them to, or too old to mail: nothing waits, and they stay unmailed should an address come. */
  repliesPassed: 'UPDATE conversations SET unseen_reply_at = NULL WHERE id = ?',
  /** What replies by email know of a conversation: its address, page, and how far the visitor saw it. */
  replyState: `SELECT ${REPLY_ADDRESS} AS address, v.contact_email, c.page_url, c.seen_through
               FROM conversations c JOIN visitors v ON v.id = c.visitor_id LEFT JOIN people p ON p.id = c.person_id
               WHERE c.id = ?`,
} as const;

export const conversationMessagesSql = {
  insert: 'INSERT INTO conversation_messages (conversation_id, author, body, client_id, at) VALUES (?, ?, ?, ?, ?) RETURNING *',
  byClientId: 'SELECT * FROM conversation_messages WHERE client_id = ?',
  ofConversation: 'SELECT * FROM conversation_messages WHERE conversation_id = ? ORDER BY id',
  visibleAfter: `SELECT m.* FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.id > :after AND ${VISIBLE} ORDER BY m.id LIMIT :limit`,
  lastId: 'SELECT coalesce(max(id), 0) AS id FROM conversation_messages',
  /** The team replies of a reply email: after one message, up to another, the first 50. */
  teamRepliesBetween: `SELECT * FROM conversation_messages WHERE conversation_id = ? AND author = 'team' AND id > ? AND id <= ?
                       ORDER BY id LIMIT 50`,
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
