import { PERSON_EMAIL } from './people.ts';

/** visitors: the widget's sessions, and who each one is now. */
export const visitorsSql = {
  insert: 'INSERT INTO visitors (secret_hash, created_at, seen_at) VALUES ($1, $2, $3) RETURNING id',
  byId: 'SELECT * FROM visitors WHERE id = $1',
  identify: 'UPDATE visitors SET person_id = $1, identified_by = $2, recipient_id = $3, link_id = $4, seen_at = $5 WHERE id = $6',
  /** An address the visitor left for replies: on the session alone, never a person. */
  setContactEmail: 'UPDATE visitors SET contact_email = $1 WHERE id = $2',
} as const;

const CONVERSATION_SELECT = `
  SELECT c.*, p.name AS p_name, ${PERSON_EMAIL} AS p_email
  FROM conversations c LEFT JOIN people p ON p.id = c.person_id`;

/** The visibility rule of VisitorScope, its visitor and verified person the parameters numbered. */
const visible = (visitor: string, verified: string) => `((c.identified_by IS DISTINCT FROM 'verified' AND c.visitor_id = ${visitor})
  OR (c.identified_by = 'verified' AND c.person_id = ${verified}))`;

/**
 * Where a conversation's replies are mailed: the person's email (a lead's, or the one a verified
 * user gave), else an address its visitor left. Over conversations c, visitors v, people p.
 */
const REPLY_ADDRESS = `coalesce(${PERSON_EMAIL}, v.contact_email)`;

/** The time of a conversation c's oldest team reply neither seen nor taken for mailing (null: none). */
const FIRST_UNSEEN_REPLY = `(SELECT m.at FROM conversation_messages m WHERE m.conversation_id = c.id AND m.author = 'team'
  AND m.id > GREATEST(c.seen_through, c.mailed_through) ORDER BY m.id LIMIT 1)`;

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

  // Replies by email.
  /** A team reply was written: a reply waits to be seen, since the oldest one that does. */
  replyWaiting: 'UPDATE conversations SET unseen_reply_at = coalesce(unseen_reply_at, $1) WHERE id = $2',
  /** The visitor saw the thread up to a message: never moved back, never past the thread's own last message. */
  seen: `UPDATE conversations SET seen_through = GREATEST(seen_through, coalesce(
           (SELECT max(id) FROM conversation_messages WHERE conversation_id = $1 AND id <= $2), 0))
         WHERE id = $1`,
  /** Which reply waits now (after a seen, or an address that became known): the oldest one past what was seen and mailed. */
  findUnseenReply: `UPDATE conversations c SET unseen_reply_at = ${FIRST_UNSEEN_REPLY} WHERE c.id = $1`,
  findUnseenRepliesOfVisitor: `UPDATE conversations c SET unseen_reply_at = ${FIRST_UNSEEN_REPLY} WHERE c.visitor_id = $1 AND c.unseen_reply_at IS NULL`,
  /**
   * Conversations whose oldest unseen reply was written by $1, oldest first, locked to this
   * claim: another node's claim skips them rather than waiting to claim them a second time.
   */
  repliesDue: 'SELECT id FROM conversations WHERE unseen_reply_at <= $1 ORDER BY unseen_reply_at LIMIT $2 FOR UPDATE SKIP LOCKED',
  /** A due conversation's batch: the replies after `after` up to `through`, waiting since `waiting_since`; `addressed`: someone to mail. */
  replyBatch: `SELECT GREATEST(c.seen_through, c.mailed_through) AS after, c.unseen_reply_at AS waiting_since,
                 coalesce((SELECT max(id) FROM conversation_messages WHERE conversation_id = c.id AND author = 'team'), 0) AS through,
                 ${REPLY_ADDRESS} IS NOT NULL AS addressed
               FROM conversations c JOIN visitors v ON v.id = c.visitor_id LEFT JOIN people p ON p.id = c.person_id
               WHERE c.id = $1`,
  /** Its replies up to this one are taken for mailing: nothing waits until the next reply. */
  repliesTaken: 'UPDATE conversations SET mailed_through = GREATEST(mailed_through, $1), unseen_reply_at = NULL WHERE id = $2',
  /** Nobody to mail them to, or too old to mail: nothing waits, and they stay unmailed should an address come. */
  repliesPassed: 'UPDATE conversations SET unseen_reply_at = NULL WHERE id = $1',
  /** What replies by email know of a conversation: its address, page, and how far the visitor saw it. */
  replyState: `SELECT ${REPLY_ADDRESS} AS address, v.contact_email, c.page_url, c.seen_through
               FROM conversations c JOIN visitors v ON v.id = c.visitor_id LEFT JOIN people p ON p.id = c.person_id
               WHERE c.id = $1`,
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
  /** The team replies of a reply email: after one message, up to another, the first 50. */
  teamRepliesBetween: `SELECT * FROM conversation_messages WHERE conversation_id = $1 AND author = 'team' AND id > $2 AND id <= $3
                       ORDER BY id LIMIT 50`,
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
