import type Database from 'better-sqlite3';
import type {
  ConversationMessage,
  ConversationSummary,
  IdentifiedBy,
  PersonRef,
  TeamEvent,
} from '../../api/types.ts';
import type {
  ConversationHead,
  MessengerStore,
  NewTeamEvent,
  NewVisit,
  StoredConversation,
  VisitorIdentity,
  VisitorRecord,
  VisitorScope,
} from './store.ts';

const DAY_MS = 86_400_000;

interface VisitorRow {
  id: number;
  secret_hash: Buffer;
  person_id: number | null;
  identified_by: IdentifiedBy | null;
  recipient_id: number | null;
  link_id: number | null;
}

interface ConversationRow {
  id: number;
  visitor_id: number;
  person_id: number | null;
  identified_by: IdentifiedBy | null;
  page_url: string | null;
  started_at: number;
  last_message_at: number;
  last_message: string;
  p_name: string | null;
  p_email: string | null;
}

interface MessageRow {
  id: number;
  conversation_id: number;
  author: ConversationMessage['author'];
  body: string;
  at: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

const toMessage = (r: MessageRow): ConversationMessage => ({
  id: r.id,
  conversationId: r.conversation_id,
  author: r.author,
  body: r.body,
  at: iso(r.at),
});

function toSummary(r: ConversationRow): ConversationSummary {
  return {
    id: r.id,
    person: r.person_id === null ? null : { id: r.person_id, name: r.p_name, email: r.p_email! },
    identifiedBy: r.identified_by,
    startedAt: iso(r.started_at),
    lastMessageAt: iso(r.last_message_at),
    lastMessage: r.last_message,
    pageUrl: r.page_url,
  };
}

/** A person's email as the team sees it: a lead's key, or the attribute a verified user gave. */
const PERSON_EMAIL = 'coalesce(p.email, p.user_email)';

const CONVERSATION_SELECT = `
  SELECT c.*, p.name AS p_name, ${PERSON_EMAIL} AS p_email
  FROM conversations c LEFT JOIN people p ON p.id = c.person_id`;

/** The visibility rule of VisitorScope, in SQL (parameters :visitor and :verified). */
const VISIBLE = `((c.identified_by IS NOT 'verified' AND c.visitor_id = :visitor)
  OR (c.identified_by = 'verified' AND c.person_id = :verified))`;

const PREVIEW_CHARS = 140;

export class SqliteMessengerStore implements MessengerStore {
  constructor(private readonly db: Database.Database) {}

  private readonly q = (sql: string) => this.db.prepare(sql);

  async createVisitor(secretHash: Buffer): Promise<VisitorRecord> {
    const now = Date.now();
    const { lastInsertRowid } = this.q('INSERT INTO visitors (secret_hash, created_at, seen_at) VALUES (?, ?, ?)').run(
      secretHash,
      now,
      now,
    );
    return { id: Number(lastInsertRowid), secretHash, identity: null };
  }

  async getVisitor(id: number): Promise<VisitorRecord | null> {
    const r = this.q('SELECT * FROM visitors WHERE id = ?').get(id) as VisitorRow | undefined;
    if (!r) return null;
    const identity: VisitorIdentity | null =
      r.person_id !== null && r.identified_by
        ? { personId: r.person_id, identifiedBy: r.identified_by, recipientId: r.recipient_id, linkId: r.link_id }
        : null;
    return { id: r.id, secretHash: r.secret_hash, identity };
  }

  async setVisitorIdentity(id: number, identity: VisitorIdentity | null): Promise<void> {
    this.q(
      `UPDATE visitors SET person_id = ?, identified_by = ?, recipient_id = ?, link_id = ?, seen_at = ? WHERE id = ?`,
    ).run(identity?.personId ?? null, identity?.identifiedBy ?? null, identity?.recipientId ?? null, identity?.linkId ?? null, Date.now(), id);
  }

  async getPerson(id: number): Promise<PersonRef | null> {
    return (this.q(`SELECT id, name, ${PERSON_EMAIL} AS email FROM people p WHERE id = ?`).get(id) as PersonRef | undefined) ?? null;
  }

  async upsertPerson(email: string, name: string | null): Promise<PersonRef> {
    return this.q(
      `INSERT INTO people (email, name, created_at) VALUES (?, ?, ?)
       ON CONFLICT (email) DO UPDATE SET name = coalesce(excluded.name, people.name)
       RETURNING id, name, email`,
    ).get(email.trim(), name, Date.now()) as PersonRef;
  }

  async upsertVerifiedPerson(userId: string, { email, name }: { email: string; name: string | null }): Promise<PersonRef> {
    return this.q(
      `INSERT INTO people (user_id, user_email, name, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET user_email = excluded.user_email, name = coalesce(excluded.name, people.name)
       RETURNING id, name, user_email AS email`,
    ).get(userId, email.trim(), name, Date.now()) as PersonRef;
  }

  async clickOrigin(recipientId: number, linkId: number) {
    const row = this.q(
      `SELECT m.id AS messageId, m.subject AS subject, l.url AS linkUrl
       FROM recipients r JOIN messages m ON m.id = r.message_id
       LEFT JOIN links l ON l.id = ? AND l.message_id = m.id
       WHERE r.id = ?`,
    ).get(linkId, recipientId) as { messageId: number; subject: string; linkUrl: string | null } | undefined;
    return row ?? null;
  }

  async clickVerdict(recipientId: number, linkId: number, at: number): Promise<'person' | 'machine' | null> {
    const row = this.q('SELECT bot_reason, suspect_reason FROM clicks WHERE recipient_id = ? AND link_id = ? AND at = ?').get(recipientId, linkId, at) as
      | { bot_reason: string | null; suspect_reason: string | null }
      | undefined;
    if (!row) return null;
    return row.bot_reason === null && row.suspect_reason === null ? 'person' : 'machine';
  }

  async attachConversations(visitorId: number, identity: VisitorIdentity): Promise<void> {
    this.q('UPDATE conversations SET person_id = ?, identified_by = ? WHERE visitor_id = ? AND person_id IS NULL').run(
      identity.personId,
      identity.identifiedBy,
      visitorId,
    );
  }

  async recipientPerson(recipientId: number): Promise<number | null> {
    const row = this.q('SELECT person_id FROM recipients WHERE id = ?').get(recipientId) as { person_id: number } | undefined;
    return row?.person_id ?? null;
  }

  async startConversation(c: {
    visitorId: number;
    identity: VisitorIdentity | null;
    pageUrl: string | null;
    body: string;
    clientId: string;
    at: number;
  }): Promise<{ conversation: StoredConversation; created: boolean }> {
    const existing = this.q('SELECT conversation_id FROM conversation_messages WHERE client_id = ?').get(c.clientId) as
      | { conversation_id: number }
      | undefined;
    if (existing) {
      const conversation = (await this.getConversation(existing.conversation_id))!;
      return { conversation, created: false };
    }
    const id = this.db.transaction(() => {
      const { lastInsertRowid } = this.q(
        `INSERT INTO conversations (visitor_id, person_id, identified_by, page_url, started_at, last_message_at, last_message)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        c.visitorId,
        c.identity?.personId ?? null,
        c.identity?.identifiedBy ?? null,
        c.pageUrl,
        c.at,
        c.at,
        c.body.slice(0, PREVIEW_CHARS),
      );
      this.q('INSERT INTO conversation_messages (conversation_id, author, body, client_id, at) VALUES (?, ?, ?, ?, ?)').run(
        lastInsertRowid,
        'visitor',
        c.body,
        c.clientId,
        c.at,
      );
      return Number(lastInsertRowid);
    })();
    return { conversation: (await this.getConversation(id))!, created: true };
  }

  async addMessage(
    conversationId: number,
    m: { author: ConversationMessage['author']; body: string; clientId: string | null; at: number },
  ): Promise<{ message: ConversationMessage; created: boolean }> {
    if (m.clientId !== null) {
      const existing = this.q('SELECT * FROM conversation_messages WHERE client_id = ?').get(m.clientId) as MessageRow | undefined;
      if (existing) return { message: toMessage(existing), created: false };
    }
    const row = this.db.transaction(() => {
      const inserted = this.q(
        'INSERT INTO conversation_messages (conversation_id, author, body, client_id, at) VALUES (?, ?, ?, ?, ?) RETURNING *',
      ).get(conversationId, m.author, m.body, m.clientId, m.at) as MessageRow;
      this.q('UPDATE conversations SET last_message_at = ?, last_message = ? WHERE id = ?').run(
        m.at,
        m.body.slice(0, PREVIEW_CHARS),
        conversationId,
      );
      return inserted;
    })();
    return { message: toMessage(row), created: true };
  }

  private withMessages(r: ConversationRow): StoredConversation {
    const messages = (
      this.q('SELECT * FROM conversation_messages WHERE conversation_id = ? ORDER BY id').all(r.id) as MessageRow[]
    ).map(toMessage);
    return { ...toSummary(r), visitorId: r.visitor_id, messages };
  }

  async getConversation(id: number): Promise<StoredConversation | null> {
    const r = this.q(`${CONVERSATION_SELECT} WHERE c.id = ?`).get(id) as ConversationRow | undefined;
    return r ? this.withMessages(r) : null;
  }

  async getConversationHead(id: number): Promise<ConversationHead | null> {
    const r = this.q(`${CONVERSATION_SELECT} WHERE c.id = ?`).get(id) as ConversationRow | undefined;
    return r ? { ...toSummary(r), visitorId: r.visitor_id } : null;
  }

  async listConversations(limit: number): Promise<ConversationSummary[]> {
    const rows = this.q(`${CONVERSATION_SELECT} ORDER BY c.last_message_at DESC, c.id DESC LIMIT ?`).all(limit) as ConversationRow[];
    return rows.map(toSummary);
  }

  async visibleConversations(scope: VisitorScope, limit: number): Promise<StoredConversation[]> {
    const rows = this.q(
      `${CONVERSATION_SELECT} WHERE ${VISIBLE} ORDER BY c.last_message_at DESC, c.id DESC LIMIT :limit`,
    ).all({ visitor: scope.visitorId, verified: scope.verifiedPersonId, limit }) as ConversationRow[];
    return rows.map((r) => this.withMessages(r));
  }

  async visibleMessagesAfter(scope: VisitorScope, after: number, limit: number): Promise<ConversationMessage[]> {
    const rows = this.q(
      `SELECT m.* FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id
       WHERE m.id > :after AND ${VISIBLE} ORDER BY m.id LIMIT :limit`,
    ).all({ after, visitor: scope.visitorId, verified: scope.verifiedPersonId, limit }) as MessageRow[];
    return rows.map(toMessage);
  }

  async lastMessageId(): Promise<number> {
    return (this.q('SELECT coalesce(max(id), 0) AS id FROM conversation_messages').get() as { id: number }).id;
  }

  async recordVisit(v: NewVisit, since: number): Promise<{ recent: boolean }> {
    return this.db.transaction(() => {
      const recent = this.q('SELECT 1 FROM visits WHERE person_id = ? AND url = ? AND at >= ? LIMIT 1').get(v.personId, v.url, since);
      this.q(
        'INSERT INTO visits (visitor_id, person_id, url, referrer, recipient_id, link_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run(v.visitorId, v.personId, v.url, v.referrer, v.recipientId, v.linkId, v.at);
      return { recent: recent !== undefined };
    })();
  }

  async appendTeamEvent(e: NewTeamEvent): Promise<TeamEvent> {
    const { type, at, ...data } = e;
    const { lastInsertRowid } = this.q('INSERT INTO team_events (type, data, at) VALUES (?, ?, ?)').run(
      type,
      JSON.stringify(data),
      Date.parse(at),
    );
    return { id: Number(lastInsertRowid), ...e } as TeamEvent;
  }

  async teamEventsAfter(after: number, limit: number): Promise<TeamEvent[]> {
    const rows = this.q('SELECT * FROM team_events WHERE id > ? ORDER BY id LIMIT ?').all(after, limit) as {
      id: number;
      type: TeamEvent['type'];
      data: string;
      at: number;
    }[];
    return rows.map((r) => ({ id: r.id, type: r.type, at: iso(r.at), ...JSON.parse(r.data) }) as TeamEvent);
  }

  async lastTeamEventId(): Promise<number> {
    return (this.q('SELECT coalesce(max(id), 0) AS id FROM team_events').get() as { id: number }).id;
  }

  async webhookCursor(): Promise<number | null> {
    const row = this.q('SELECT delivered_through FROM webhook_cursor WHERE id = 1').get() as { delivered_through: number } | undefined;
    return row?.delivered_through ?? null;
  }

  async setWebhookCursor(id: number): Promise<void> {
    this.q(
      `INSERT INTO webhook_cursor (id, delivered_through) VALUES (1, ?)
       ON CONFLICT (id) DO UPDATE SET delivered_through = max(delivered_through, excluded.delivered_through)`,
    ).run(id);
  }

  async recordPersonEvent(e: { personId: number; name: string; source: 'api' | 'widget'; at: number }): Promise<{ goalsCompleted: number }> {
    return this.db.transaction(() => {
      this.q('INSERT INTO person_events (person_id, name, source, at) VALUES (?, ?, ?, ?)').run(e.personId, e.name, e.source, e.at);
      // A goal counts once, the first time the person does the event within the window after their send.
      const { changes } = this.q(
        `UPDATE recipients SET goal_at = :at
         WHERE person_id = :person AND goal_at IS NULL AND sent_at IS NOT NULL AND sent_at <= :at
           AND message_id IN (
             SELECT m.id FROM messages m
             WHERE m.id = recipients.message_id AND m.goal_event = :name
               AND :at <= recipients.sent_at + m.goal_within_days * ${DAY_MS})`,
      ).run({ at: e.at, person: e.personId, name: e.name });
      return { goalsCompleted: changes };
    })();
  }
}
