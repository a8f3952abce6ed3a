import type {
  Audience,
  BotReason,
  Channel,
  Conversation,
  ConversationMessage,
  ConversationSummary,
  Delivery,
  Goal,
  IdentifiedBy,
  LinkPlacement,
  MessageKind,
  MessageStats,
  MessageSummary,
  PersonRef,
  PersonStats,
  PushContent,
  Settings,
  Suppression,
  SuspectReason,
  TeamEvent,
} from '../../api/types.ts';
import type { CompiledMessage } from '../rewrite/template.ts';

/**
 * The one storage interface the whole server uses: messages and their recipients, clicks and
 * their counters, the messenger's visitors and conversations, the team's event log. Every
 * statement behind it lives in this folder, by table (sqlite/). Asynchronous, so a PostgreSQL
 * store can stand in for the SQLite one without touching a route.
 */

export interface MessageRecord {
  id: number;
  subject: string;
  html: string;
  text: string | null;
  channel: Channel;
  kind: MessageKind;
  /** As the author gave them; null: the settings' default. */
  from: string | null;
  replyTo: string | null;
  goal: Goal | null;
  /** In-app messages only. */
  audience: Audience | null;
  /** Push messages only (their uri is compiled.links[0]). */
  push: PushContent | null;
  compiled: CompiledMessage;
  createdAt: number;
  /** When the first send (or, in-app, the publication) started: null while a draft. */
  sentAt: number | null;
  /** In the order of compiled.links. */
  links: LinkPlacement[];
  /** The hidden link added to every email that no person sees: a hit on it is a machine's. */
  honeypotLinkId: number | null;
}

export interface NewMessage {
  subject: string;
  html: string;
  text: string | null;
  channel: Channel;
  /** Default: marketing. */
  kind?: MessageKind;
  from?: string | null;
  replyTo?: string | null;
  goal: Goal | null;
  audience: Audience | null;
  push: PushContent | null;
  compiled: CompiledMessage;
}

/** What became of an edit or a deletion of a draft: a sent message is never changed. */
export type DraftChange = 'done' | 'sent' | 'missing';

export interface NewRecipient {
  email: string;
  name?: string | undefined;
  attributes?: Record<string, string | number | boolean | null> | undefined;
}

/** skipped: left out of a send (a marketing message to a suppressed address); claimable again once the reason is gone. */
export type DeliveryStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'skipped';

/**
 * A person on a message. Emails and push messages have the people the team added (by
 * email); an in-app message gets one when it is shown, to a person or, for an audience of
 * everyone, to an anonymous visitor (no person, no email: the widget session it was shown in).
 */
export interface RecipientRecord {
  id: number;
  messageId: number;
  personId: number | null;
  email: string | null;
  name: string | null;
  attributes: Record<string, string | number | boolean | null>;
  status: DeliveryStatus;
  /** Delivered (email), shown (in-app), payload handed out (push). */
  sentAt: number | null;
  error: string | null;
  unsubscribedAt: number | null;
}

/**
 * Whose claims a store gives back as it opens, the claims of a send a crash cut short (see
 * Config.releasesClaimsOf): those the nodes named made, and with `unnamed` those made by a
 * release before claims named their node.
 */
export interface ClaimRelease {
  nodes: string[];
  unnamed: boolean;
}

/** A recipient the team added by email (emails and push messages): always a person with an address. */
export type AddressedRecipient = RecipientRecord & { personId: number; email: string };

/** Who an in-app message is shown to: the widget session, and the person it is known as now (null: anonymous). */
export interface InAppViewer {
  visitorId: number;
  person: PersonRef | null;
}

export interface Store extends JournalTarget {
  getSettings(): Promise<Settings>;
  /** The settings as last read while they are fresh (no wait: the redirect reads them on every hit); null when getSettings() must read them. */
  settingsNow(): Settings | null;
  updateSettings(patch: Partial<Settings>): Promise<Settings>;

  createMessage(message: NewMessage): Promise<MessageRecord>;
  getMessage(id: number): Promise<MessageRecord | null>;
  /** Newest first. */
  listMessages(limit: number): Promise<MessageRecord[]>;
  /**
   * Replaces a draft's content and its link placements (new ids), in one transaction that a
   * send's claim cannot interleave with: once a send has started, nothing is changed.
   */
  updateDraft(id: number, message: NewMessage): Promise<DraftChange>;
  /** Removes a draft with its recipients and links, under the same rule. */
  deleteDraft(id: number): Promise<DraftChange>;

  /** Adds people to a message; someone already on it gets their name and attributes updated. */
  addRecipients(messageId: number, recipients: NewRecipient[]): Promise<{ added: number; updated: number }>;
  /** Also what the redirect reads (through its cache). */
  getRecipient(id: number): Promise<RecipientRecord | null>;
  findRecipient(messageId: number, email: string): Promise<AddressedRecipient | null>;
  /** The message's first recipient (lowest id): whom a test send is rendered as by default. */
  firstRecipient(messageId: number): Promise<AddressedRecipient | null>;
  /** Where the message's delivery stands now, recipient by recipient (read during a send too). */
  delivery(messageId: number): Promise<Delivery>;

  /** The first publication of an in-app message, or the first payload of a push, started: no longer a draft. Later calls keep the first time. */
  markMessageSent(messageId: number, at: number): Promise<void>;

  /**
   * Marks the message's unsent recipients (pending, failed, skipped) as being sent by `node` and
   * returns them; a concurrent call gets none of them. A marketing email's recipients whose address is
   * suppressed are marked skipped instead and returned apart. The message's sentAt is set, in
   * the same transaction, the first time anyone is claimed or skipped. The claims name their
   * node so that only that node's next start gives them back (ClaimRelease), should it crash mid-send.
   */
  claimUnsent(messageId: number, node: string): Promise<{ claimed: AddressedRecipient[]; skipped: AddressedRecipient[] }>;
  /**
   * Claimed (or skipped) recipients that were not sent after all (the send was refused):
   * unsent again, as if never claimed; a message nobody was ever sent to is a draft again.
   */
  releaseClaims(messageId: number, recipientIds: number[]): Promise<void>;
  recordDelivery(recipientId: number, outcome: { ok: true; at: number } | { ok: false; error: string }): Promise<void>;
  /** A push payload was handed out for this recipient: sent, at the first time. */
  markPushed(recipientId: number, at: number): Promise<void>;

  // In-app messages: shown once to each person (each widget session while anonymous).
  /** Published in-app messages never shown to this visitor nor to the person they are, oldest first. */
  unseenInApp(viewer: InAppViewer): Promise<MessageRecord[]>;
  /**
   * Records the message as shown to the viewer now (a recipient row, sent at this time), or
   * null when it was shown to them already (another tab, another browser of the same person).
   */
  showInApp(messageId: number, viewer: InAppViewer, at: number): Promise<RecipientRecord | null>;
  /** The visitor closed the card shown in their widget session: false when it was never shown there. The first time is kept. */
  dismissInApp(messageId: number, visitorId: number, at: number): Promise<boolean>;

  /**
   * The recipient unsubscribes: their address goes on the suppression list (if not on it
   * already) and the recipient keeps the time. Idempotent; false when there is no such recipient.
   */
  unsubscribe(recipientId: number, at: number): Promise<boolean>;
  /** Newest first. */
  listSuppressions(limit: number): Promise<Suppression[]>;
  /** Takes an address off the suppression list; false when it was not on it. */
  liftSuppression(email: string): Promise<boolean>;

  // Clicks and opens: what the redirect and the stats read (the journal's ingester writes them, JournalTarget).
  getLink(id: number): Promise<LinkTarget | null>;
  messageStats(messageId: number): Promise<Omit<MessageStats, 'recipients' | 'sent' | 'goal'> & { goalCompleted: number }>;
  people(messageId: number): Promise<PersonStats[]>;
  headlines(messageIds: number[]): Promise<Map<number, Pick<MessageSummary, 'opens' | 'clicks'>>>;

  // The messenger and the team's event log.
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
  /**
   * The webhook sender's lease, so that one node of all those on the database delivers: taken
   * by `node` when it is free, its own already, or run out, and then held for `ms` from now by
   * the database's clock (machines' clocks may disagree). True when `node` holds it now.
   */
  takeWebhookLease(node: string, ms: number): Promise<boolean>;
  /** A node that stops gives its lease up, so another takes over at once rather than when it runs out. */
  releaseWebhookLease(node: string): Promise<void>;
  webhookCursor(): Promise<number | null>;
  /**
   * Moves the cursor forward, only while `node` is the lease's holder: false when it is not
   * (its lease ran out and another node took it), and then it must stop delivering.
   */
  setWebhookCursor(id: number, node: string): Promise<boolean>;

  /** Records an event done by a person and marks the goals it reaches; returns how many. */
  recordPersonEvent(e: { personId: number; name: string; source: 'api' | 'widget'; at: number }): Promise<{ goalsCompleted: number }>;

  // Replies by email (settings.replyByEmailAfterMinutes).
  /** The visitor saw the thread up to message `through`: never moved back, nor past the thread's last message. */
  markConversationSeen(conversationId: number, through: number): Promise<void>;
  /**
   * An address the visitor left for replies: kept on their session, never a person's key. The
   * replies of their conversations not yet seen nor mailed may go to it from now on.
   */
  setContactEmail(visitorId: number, email: string): Promise<void>;
  /** What the team sees of replies by email on a conversation (null: no such conversation). */
  repliesByEmail(conversationId: number): Promise<Pick<Conversation, 'contactEmail' | 'seenThrough' | 'replyEmails'> | null>;
  /**
   * Claims the reply emails due, up to `limit` of each kind: claims left unfinished
   * (ReplyEmailClock), and, for each conversation whose oldest team reply neither seen nor
   * mailed was written by `dueBy`, a new claim of its replies up to the newest when someone can
   * be mailed (a conversation nobody can be mailed for, or whose reply is older than
   * `oldestBy`, waits no more). Concurrent callers, in any process or node, never get the same claim.
   */
  claimReplyEmails(clock: ReplyEmailClock, limit: number): Promise<ReplyEmailClaim[]>;
  /** What a claimed email is to say: to whom, the conversation's page, and its replies the visitor has still not seen. */
  replyEmailContent(claim: ReplyEmailClaim): Promise<{ address: string | null; pageUrl: string | null; replies: ConversationMessage[] }>;
  recordReplyEmail(id: number, outcome: ReplyEmailOutcome): Promise<void>;
  /** Where a reply email's link goes: its conversation and that conversation's page (null: no such email). */
  replyEmailTarget(id: number): Promise<{ conversationId: number; pageUrl: string | null; sentAt: number | null } | null>;
  /** A person followed a reply email's link: the first time is kept. */
  replyEmailFollowed(id: number, at: number): Promise<void>;

  close(): Promise<void>;
}

export const DEFAULT_SETTINGS: Settings = {
  clickTracking: true,
  leadEmailIdentification: true,
  universalLinkDomains: [],
  mergeTagHosts: [],
  scannerNetworks: [],
  identificationWindowDays: 7,
  identityCookieDays: 30,
  scannerWindowSeconds: 10,
  earlyWindowSeconds: 60,
  // The honeypot's minute, and time for the writer to bring the hits after the click in.
  identificationDelaySeconds: 65,
  messengerGreeting: 'Hi {{first_name | there}} 👋',
  messengerIntro: 'Ask us anything: we usually answer within a few minutes.',
  allowedOrigins: [],
  webhookUrl: null,
  // Made by migration 3; empty only in a database that never ran it, where nothing verifies.
  webhookSecret: '',
  defaultFrom: null,
  defaultReplyTo: null,
  identitySecret: '',
  deepLinkSchemes: [],
  appLinks: { apple: [], android: [] },
  replyByEmailAfterMinutes: 5,
};

/**
 * The key of the suppression list: an address as SQLite's NOCASE and the stores' SQL lower()
 * fold it (ASCII letters only), so a recipient row, a suppression and an admin's DELETE meet.
 */
export const suppressionKey = (email: string) => email.trim().replace(/[A-Z]+/g, (c) => c.toLowerCase());

// What the redirect and the click journal's ingester trade in.

/** What the redirect needs to know about a link, cached in memory in front of the store. */
export interface LinkTarget {
  id: number;
  messageId: number;
  /** Which rules a click follows: the mail scanners' timing signals, the identity cookie. */
  channel: Channel;
  url: string;
  tracked: boolean;
  honeypot: boolean;
  /** Tracked links of its message, the honeypot aside: "all of a recipient's links" for burst detection. */
  messageTrackedLinks: number;
}

/** What the redirect needs to know about a recipient. */
export type RecipientTarget = Pick<RecipientRecord, 'id' | 'messageId' | 'personId' | 'email' | 'name' | 'attributes' | 'sentAt'>;

interface HitBase {
  recipientId: number;
  messageId: number;
  at: number;
  /** null: taken for a person. */
  botReason: BotReason | null;
  /** Already truncated or hashed: never a raw address. */
  ip: string | null;
  userAgent: string | null;
}

/** One thing to write, in journal order. */
export type TrackingWrite =
  | ({
      kind: 'click';
      linkId: number;
      /** A person's click that identifies nobody; absent in journals written before it existed. */
      suspectReason?: SuspectReason | null;
      /** A second signal the request gave (no Accept-Language…), for the verdict over every node's hits; absent when none. */
      hint?: string;
    } & HitBase)
  | ({ kind: 'open' } & HitBase)
  /** Human clicks of a recipient in [from, to] turn out to have been a machine's. */
  | { kind: 'reclassify'; recipientId: number; from: number; to: number; reason: BotReason };

/** How far the click journal has been written into the store: a segment and a byte offset in it. */
export interface JournalPosition {
  segment: number;
  offset: number;
}

/** The journal position in the database is not where this writer thought: someone else wrote it. */
export class JournalMoved extends Error {}

/**
 * The database refused a write for what the write says (a recipient it does not have, a value
 * a constraint rejects): trying it again fails the same way, unlike a database that is
 * locked, read-only or down, which only has to be waited for.
 */
export class HitRefused extends Error {}

/** A write of a batch that the database refused, by its index in the batch. */
export interface Refusal {
  index: number;
  error: string;
}

/**
 * A move of one node's journal position: each server keeps its own journal on its own disk
 * and folds it into the shared database under its own node id.
 */
export interface JournalMove {
  node: string;
  from: JournalPosition | null;
  to: JournalPosition;
}

/** Where the click journal's ingester writes. */
export interface JournalTarget {
  /**
   * All in one transaction, counters included, and the journal position moved from `from` to
   * `to` with them. Throws, and writes nothing, when the database is unavailable or the
   * position is no longer `from` (another writer got there first); throws HitRefused when
   * a write of the batch was refused for itself (commitEach then finds which).
   */
  commit(batch: TrackingWrite[], journal?: JournalMove): Promise<void>;
  /**
   * As commit, each write on its own savepoint: the ones refused for themselves are left out
   * and handed to setAside before the commit (so they are kept whenever the position moves
   * past them). Returns how many were written. A failure of the database as a whole, or of
   * setAside, throws and writes nothing.
   */
  commitEach(
    batch: TrackingWrite[],
    journal: JournalMove,
    setAside: (refused: Refusal[]) => void,
  ): Promise<number>;
  /**
   * This node's position. A node with none yet takes over the one a release before node ids
   * left (node ''), so an upgraded single server goes on where it was.
   */
  journalPosition(node: string): Promise<JournalPosition | null>;
}

// The messenger's records.

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
  /** The visitor left an address for replies (the address stays in the database). */
  hasContactEmail: boolean;
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

export interface StoredConversation extends ConversationSummary {
  visitorId: number;
  messages: ConversationMessage[];
}

/** A mail of team replies claimed for sending: the conversation's replies after `after` up to `through`. */
export interface ReplyEmailClaim {
  id: number;
  conversationId: number;
  after: number;
  through: number;
  /** 1 the first time; a claim a crash left behind, or a failed send, is tried again under the same id. */
  attempt: number;
  createdAt: number;
}

/** How an attempt at a reply email ended; `seen`: the visitor saw its replies before it went out, so it did not. */
export type ReplyEmailOutcome = { status: 'sent'; at: number } | { status: 'failed'; error: string } | { status: 'seen' };

/** The times a claim of reply emails goes by (milliseconds), all from the sender's clock. */
export interface ReplyEmailClock {
  now: number;
  /** A conversation whose oldest unseen reply was written by then is due. */
  dueBy: number;
  /** A reply written before then is too old to mail now (replies by email were off, or the address came later). */
  oldestBy: number;
  /** A claim still sending since before then was cut short (its process died): it is claimed again. */
  abandonedBefore: number;
  /** A failed send claimed before then is tried again, while it has attempts left. */
  retryBefore: number;
  maxAttempts: number;
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
