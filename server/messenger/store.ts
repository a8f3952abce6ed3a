import type {
  Conversation,
  ConversationMessage,
  ConversationSummary,
  IdentifiedBy,
  PersonRef,
  TeamEvent,
} from '../../api/types.ts';

/**
 * Storage for the messenger and the team's event log. Narrow and asynchronous like the
 * main Store, so a PostgreSQL implementation can replace the SQLite one.
 */

export interface VisitorIdentity {
  personId: number;
  identifiedBy: IdentifiedBy;
  /** The click that identified them (email-click identities). */
  recipientId: number | null;
  linkId: number | null;
}

export interface VisitorRecord {
  id: number;
  secretHash: Buffer;
  identity: VisitorIdentity | null;
}

/**
 * What a visitor may see: the conversations started in their browser (their visitor
 * session), and, only when verified, the verified conversations of that person. An
 * email-click identity never widens it: a forwarded email must not show anyone's history.
 */
export interface VisitorScope {
  visitorId: number;
  verifiedPersonId: number | null;
}

export interface StoredConversation extends Conversation {
  visitorId: number;
}

/** A conversation without its messages: what checking and notifying need, at the same cost however long it is. */
export type ConversationHead = Omit<StoredConversation, 'messages'>;

export interface NewVisit {
  visitorId: number;
  personId: number;
  url: string;
  referrer: string | null;
  recipientId: number | null;
  linkId: number | null;
  at: number;
}

/** A TeamEvent before the log gives it its id. */
export type NewTeamEvent = WithoutId<TeamEvent>;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface MessengerStore {
  createVisitor(secretHash: Buffer): Promise<VisitorRecord>;
  getVisitor(id: number): Promise<VisitorRecord | null>;
  /** The identity of the visitor's latest boot (null: anonymous now). */
  setVisitorIdentity(id: number, identity: VisitorIdentity | null): Promise<void>;

  getPerson(id: number): Promise<PersonRef | null>;
  /**
   * The lead known by this email (as recipient rows and POST /api/events know people), made
   * if new; a given name replaces the stored one. Never a verified user's person.
   */
  upsertPerson(email: string, name: string | null): Promise<PersonRef>;
  /**
   * The verified user's own person, keyed by their user id alone, made if new. The email and
   * name are theirs to change; an email never makes them anyone else's person.
   */
  upsertVerifiedPerson(userId: string, attributes: { email: string; name: string | null }): Promise<PersonRef>;
  /** The message and link a recipient's click names. */
  clickOrigin(recipientId: number, linkId: number): Promise<{ messageId: number; subject: string; linkUrl: string | null } | null>;
  recipientPerson(recipientId: number): Promise<number | null>;
  /**
   * What a click is judged now: 'person', 'machine' (a bot reason, taken back later or not,
   * or a suspect one), or null while it is not in the database yet.
   */
  clickVerdict(recipientId: number, linkId: number, at: number): Promise<'person' | 'machine' | null>;
  /** The visitor's conversations started while nobody knew who they were now name them. */
  attachConversations(visitorId: number, identity: VisitorIdentity): Promise<void>;

  /** Starts a conversation with its first message; the same clientId again returns the first one made. */
  startConversation(c: {
    visitorId: number;
    identity: VisitorIdentity | null;
    pageUrl: string | null;
    body: string;
    clientId: string;
    at: number;
  }): Promise<{ conversation: StoredConversation; created: boolean }>;
  addMessage(
    conversationId: number,
    m: { author: ConversationMessage['author']; body: string; clientId: string | null; at: number },
  ): Promise<{ message: ConversationMessage; created: boolean }>;
  getConversation(id: number): Promise<StoredConversation | null>;
  getConversationHead(id: number): Promise<ConversationHead | null>;
  /** Newest activity first. */
  listConversations(limit: number): Promise<ConversationSummary[]>;
  visibleConversations(scope: VisitorScope, limit: number): Promise<StoredConversation[]>;
  /** Messages of the scope's conversations with ids above `after`, oldest first. */
  visibleMessagesAfter(scope: VisitorScope, after: number, limit: number): Promise<ConversationMessage[]>;
  lastMessageId(): Promise<number>;

  /** Records a page load; `recent` tells whether the same person loaded the same page since `since`. */
  recordVisit(v: NewVisit, since: number): Promise<{ recent: boolean }>;

  appendTeamEvent(e: NewTeamEvent): Promise<TeamEvent>;
  /** Oldest first. */
  teamEventsAfter(after: number, limit: number): Promise<TeamEvent[]>;
  lastTeamEventId(): Promise<number>;
  webhookCursor(): Promise<number | null>;
  setWebhookCursor(id: number): Promise<void>;

  /** Records an event done by a person and marks the goals it reaches; returns how many. */
  recordPersonEvent(e: { personId: number; name: string; source: 'api' | 'widget'; at: number }): Promise<{ goalsCompleted: number }>;
}
