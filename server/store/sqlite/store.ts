import Database from 'better-sqlite3';
import type {
  ClickCounts,
  ConversationMessage,
  ConversationSummary,
  Counts,
  Delivery,
  PersonRef,
  PersonStats,
  Settings,
  Suppression,
  TeamEvent,
} from '../../../api/types.ts';
import {
  DEFAULT_SETTINGS,
  HitRefused,
  JournalMoved,
  suppressionKey,
  type AddressedRecipient,
  type ClaimRelease,
  type ConversationHead,
  type DraftChange,
  type InAppViewer,
  type JournalMove as Move,
  type JournalPosition,
  type LinkTarget,
  type MessageRecord,
  type NewMessage,
  type NewRecipient,
  type NewTeamEvent,
  type NewVisit,
  type RecipientRecord,
  type Refusal,
  type ReplyEmailClaim,
  type ReplyEmailClock,
  type ReplyEmailOutcome,
  type Store,
  type StoredConversation,
  type TrackingWrite,
  type VisitorIdentity,
  type VisitorRecord,
  type VisitorScope,
} from '../store.ts';
import {
  iso,
  mailsBatch,
  PREVIEW_CHARS,
  toConversationMessage,
  toReplyEmail,
  toReplyEmailClaim,
  toVisitor,
  type ReplyBatchRow,
  type ReplyEmailRow,
  type ReplyStateRow,
  toMessageRecord,
  toRecipient,
  toSummary,
  toSuppression,
  type ConversationMessageRow,
  type ConversationRow,
  type LinkRow,
  type MessageRow,
  type RecipientRow,
  type SuppressionRow,
  type VisitorRow,
  clickReasons,
  peopleStats,
  statsLinks,
  timeline,
  type HourRow,
  type LinkCountsRow,
  type PairRow,
  type PersonRow,
  type ReasonRow,
  SETTINGS_TTL_MS,
  contentValues,
} from '../rows.ts';
import { applyClicks, refusesTheWrite } from './click-batch.ts';
import { openDatabase, prepare } from './database.ts';
import { clickCountsSql, clicksSql, journalSql, opensSql } from './sql/clicks.ts';
import { linksSql, messagesSql } from './sql/messages.ts';
import { conversationMessagesSql, conversationsSql, personEventsSql, teamEventsSql, visitorsSql, visitsSql } from './sql/messenger.ts';
import { peopleSql } from './sql/people.ts';
import { recipientsSql } from './sql/recipients.ts';
import { replyEmailsSql } from './sql/reply-emails.ts';
import { settingsSql } from './sql/settings.ts';
import { suppressionsSql } from './sql/suppressions.ts';


/**
 * A connection that met a read-only file stays read-only after the file is writable again
 * (SQLite fell back to opening it read-only), and one whose file was replaced keeps writing
 * to the old one: after these, the next journal commit opens a new connection.
 */
const STALE_CONNECTION = /^SQLITE_(READONLY|IOERR|CANTOPEN|NOTADB|CORRUPT)/;

function statements(db: Database.Database) {
  return {
    settings: prepare(db, settingsSql),
    messages: prepare(db, messagesSql),
    links: prepare(db, linksSql),
    people: prepare(db, peopleSql),
    recipients: prepare(db, recipientsSql),
    clicks: prepare(db, clicksSql),
    opens: prepare(db, opensSql),
    counts: prepare(db, clickCountsSql),
    journal: prepare(db, journalSql),
    visitors: prepare(db, visitorsSql),
    conversations: prepare(db, conversationsSql),
    conversationMessages: prepare(db, conversationMessagesSql),
    visits: prepare(db, visitsSql),
    teamEvents: prepare(db, teamEventsSql),
    personEvents: prepare(db, personEventsSql),
    suppressions: prepare(db, suppressionsSql),
    replyEmails: prepare(db, replyEmailsSql),
  };
}
export type Statements = ReturnType<typeof statements>;


/**
 * The store on one SQLite file: the embedded default. Each connection is one instance; the
 * server has one for its routes and one for the redirect and the click writer's work
 * (busyTimeoutMs 0 on the event loop, so a locked database fails at once there and the hits
 * wait in the journal).
 */
export class SqliteStore implements Store {
  db!: Database.Database;
  private s!: Statements;
  private tx!: {
    whole: (batch: TrackingWrite[], journal?: Move) => void;
    each: (batch: TrackingWrite[], journal: Move, setAside: (refused: Refusal[]) => void) => number;
  };
  private stale = false;
  // Read on every click: kept in memory, read again after SETTINGS_TTL_MS, so a change made by
  // another process (a worker, a node) shows everywhere within a second.
  private settings: Settings | null = null;
  private settingsReadAt = 0;

  constructor(
    private readonly path: string,
    private readonly opts: { busyTimeoutMs?: number; releaseClaims?: ClaimRelease } = {},
  ) {
    this.use(openDatabase(path));
    if (opts.releaseClaims) this.giveBackClaims(opts.releaseClaims);
  }

  private giveBackClaims({ nodes, unnamed }: ClaimRelease): void {
    try {
      this.s.recipients.releaseClaims.run({ nodes: JSON.stringify(nodes), unnamed: unnamed ? 1 : 0 });
    } catch (err) {
      // A read-only or locked file can still serve the redirects (the clicks wait in their
      // journal): starting matters more than the claims, which the next start that can write gives back.
      if (!(err instanceof Database.SqliteError && /^SQLITE_(READONLY|BUSY|LOCKED)/.test(err.code))) throw err;
      const state = err.code.startsWith('SQLITE_READONLY') ? 'read-only' : 'locked';
      console.error(`[clicktrail] the database is ${state} (${err.message}): redirects go on, clicks wait in the journal, other writes fail`);
    }
  }

  private use(db: Database.Database): void {
    if (this.opts.busyTimeoutMs !== undefined) db.pragma(`busy_timeout = ${this.opts.busyTimeoutMs}`);
    this.db = db;
    this.s = statements(db);
    const move = (journal: Move) => {
      const at = this.position(journal.node);
      if (at?.segment !== journal.from?.segment || at?.offset !== journal.from?.offset) {
        throw new JournalMoved(`the click journal of ${journal.node} was at ${JSON.stringify(at)}, not ${JSON.stringify(journal.from)}`);
      }
      this.s.journal.move.run(journal.node, journal.to.segment, journal.to.offset);
    };
    this.tx = {
      whole: db.transaction((batch: TrackingWrite[], journal?: Move) => {
        if (journal) move(journal);
        try {
          applyClicks(this.s, batch);
        } catch (err) {
          throw refusesTheWrite(err) && !(err instanceof HitRefused) ? new HitRefused((err as Error).message, { cause: err }) : err;
        }
      }),
      each: db.transaction((batch: TrackingWrite[], journal: Move, setAside: (refused: Refusal[]) => void) => {
        move(journal);
        const refused: Refusal[] = [];
        batch.forEach((write, index) => {
          db.exec('SAVEPOINT hit');
          try {
            applyClicks(this.s, [write]);
          } catch (err) {
            db.exec('ROLLBACK TO hit');
            if (!refusesTheWrite(err)) throw err;
            refused.push({ index, error: (err as Error).message });
          } finally {
            db.exec('RELEASE hit');
          }
        });
        if (refused.length > 0) setAside(refused);
        return batch.length - refused.length;
      }),
    };
  }

  // ---- the click journal's writes (JournalTarget)

  async commit(batch: TrackingWrite[], journal?: Move): Promise<void> {
    this.writing(() => this.tx.whole(batch, journal));
  }

  async commitEach(batch: TrackingWrite[], journal: Move, setAside: (refused: Refusal[]) => void): Promise<number> {
    return this.writing(() => this.tx.each(batch, journal, setAside));
  }

  async journalPosition(node: string): Promise<JournalPosition | null> {
    const own = this.position(node);
    if (own) return own;
    try {
      this.writing(() => this.s.journal.adoptLegacy.run({ node }));
    } catch (err) {
      // A read-only or locked database: nothing to take over now, the next commit will find out.
      if (!(err instanceof Database.SqliteError)) throw err;
    }
    return this.position(node);
  }

  private position(node: string): JournalPosition | null {
    return (this.s.journal.position.get(node) as JournalPosition | undefined) ?? null;
  }

  private writing<T>(write: () => T): T {
    if (this.stale) {
      const db = openDatabase(this.path); // throws while the file cannot be opened: still stale, tried again next time
      this.db.close();
      this.use(db);
      this.stale = false;
    }
    try {
      return write();
    } catch (err) {
      if (err instanceof Database.SqliteError && STALE_CONNECTION.test(err.code)) this.stale = true;
      throw err;
    }
  }

  // ---- settings

  settingsNow(): Settings | null {
    return this.settings && Date.now() - this.settingsReadAt <= SETTINGS_TTL_MS ? this.settings : null;
  }

  async getSettings(): Promise<Settings> {
    const now = Date.now();
    if (!this.settings || now - this.settingsReadAt > SETTINGS_TTL_MS) {
      try {
        const row = this.s.settings.get.get() as { data: string } | undefined;
        this.settings = { ...DEFAULT_SETTINGS, ...(row ? JSON.parse(row.data) : {}) };
        this.settingsReadAt = now;
      } catch (err) {
        // The database is unavailable: the settings last read still hold.
        if (!this.settings) throw err;
      }
    }
    return this.settings!;
  }

  async updateSettings(patch: Partial<Settings>): Promise<Settings> {
    const next = { ...(await this.getSettings()), ...patch };
    this.s.settings.put.run(JSON.stringify(next));
    this.settings = next;
    return next;
  }

  // ---- messages and links

  async createMessage(m: NewMessage): Promise<MessageRecord> {
    const now = Date.now();
    const id = this.db.transaction(() => {
      const { lastInsertRowid } = this.s.messages.insert.run(
        ...contentValues(m),
        m.channel,
        m.audience && JSON.stringify(m.audience),
        m.push && JSON.stringify(m.push),
        now,
      );
      this.insertLinks(Number(lastInsertRowid), m);
      return Number(lastInsertRowid);
    })();
    return (await this.getMessage(id))!;
  }

  private insertLinks(messageId: number, m: NewMessage): void {
    for (const l of m.compiled.links) {
      this.s.links.insert.run(messageId, l.position, l.part, l.url, l.text, l.tracked ? 1 : 0, l.reason ?? null);
    }
    // Only a message with tracked links gets a honeypot: with tracking off, nothing is tracked at all.
    if (m.channel === 'email' && m.compiled.links.some((l) => l.tracked)) this.s.links.insertHoneypot.run(messageId);
  }

  /** What a refused change found: the message sent, or not there. */
  private refusal(id: number): DraftChange {
    return this.s.messages.sentAt.get(id) === undefined ? 'missing' : 'sent';
  }

  /** The hits on a draft's previews and their counters: they go with the links they were on. */
  private forgetTracking(messageId: number): void {
    for (const statement of [
      this.s.clicks.deleteOfMessage,
      this.s.opens.deleteOfMessage,
      this.s.counts.deleteLinksOfMessage,
      this.s.counts.deletePairsOfMessage,
      this.s.counts.deleteReasonsOfMessage,
      this.s.counts.deleteHoursOfMessage,
      this.s.counts.deleteOfMessage,
    ]) {
      statement.run(messageId);
    }
  }

  // Immediate: the write lock from the first statement, so a send's claim (another connection's) is before or after, never between.
  async updateDraft(id: number, m: NewMessage): Promise<DraftChange> {
    return this.db
      .transaction((): DraftChange => {
        const { changes } = this.s.messages.updateDraft.run(...contentValues(m), id);
        if (changes === 0) return this.refusal(id);
        this.forgetTracking(id);
        this.s.recipients.resetCounts.run(id);
        this.s.links.deleteOfMessage.run(id);
        this.insertLinks(id, m);
        return 'done';
      })
      .immediate();
  }

  async deleteDraft(id: number): Promise<DraftChange> {
    return this.db
      .transaction((): DraftChange => {
        const row = this.s.messages.sentAt.get(id) as { sent_at: number | null } | undefined;
        if (!row) return 'missing';
        if (row.sent_at !== null) return 'sent';
        this.forgetTracking(id);
        this.s.suppressions.forgetMessage.run(id);
        this.s.recipients.deleteOfMessage.run(id);
        this.s.links.deleteOfMessage.run(id);
        this.s.messages.deleteDraft.run(id);
        return 'done';
      })
      .immediate();
  }

  private toMessage(row: MessageRow): MessageRecord {
    return toMessageRecord(row, this.s.links.ofMessage.all(row.id) as LinkRow[]);
  }

  async getMessage(id: number): Promise<MessageRecord | null> {
    const row = this.s.messages.byId.get(id) as MessageRow | undefined;
    return row ? this.toMessage(row) : null;
  }

  async listMessages(limit: number): Promise<MessageRecord[]> {
    return (this.s.messages.newest.all(limit) as MessageRow[]).map((r) => this.toMessage(r));
  }

  async getLink(id: number): Promise<LinkTarget | null> {
    const row = this.s.links.target.get(id) as
      | { id: number; message_id: number; channel: LinkTarget['channel']; url: string; tracked: number; honeypot: number; tracked_links: number }
      | undefined;
    if (!row) return null;
    return {
      id: row.id,
      messageId: row.message_id,
      channel: row.channel,
      url: row.url,
      tracked: row.tracked === 1,
      honeypot: row.honeypot === 1,
      messageTrackedLinks: row.tracked_links,
    };
  }

  async clickOrigin(recipientId: number, linkId: number) {
    return (this.s.links.clickOrigin.get(linkId, recipientId) as { messageId: number; subject: string; linkUrl: string | null } | undefined) ?? null;
  }

  // ---- people and recipients

  async getPerson(id: number): Promise<PersonRef | null> {
    return (this.s.people.byId.get(id) as PersonRef | undefined) ?? null;
  }

  async upsertPerson(email: string, name: string | null): Promise<PersonRef> {
    return this.s.people.upsertLead.get(email.trim(), name, Date.now()) as PersonRef;
  }

  async upsertVerifiedPerson(userId: string, { email, name }: { email: string; name: string | null }): Promise<PersonRef> {
    return this.s.people.upsertVerified.get(userId, email.trim(), name, Date.now()) as PersonRef;
  }

  async addRecipients(messageId: number, recipients: NewRecipient[]): Promise<{ added: number; updated: number }> {
    const now = Date.now();
    const s = this.s;
    return this.db.transaction(() => {
      let added = 0;
      let updated = 0;
      for (const r of recipients) {
        const email = r.email.trim();
        const name = r.name ?? null;
        const attributes = JSON.stringify(r.attributes ?? {});
        const { id: personId } = s.people.upsertLead.get(email, name, now) as { id: number };
        const row = s.recipients.byMessageAndPerson.get(messageId, personId) as { id: number } | undefined;
        if (row) {
          s.recipients.update.run(name, attributes, row.id);
          updated++;
        } else {
          s.recipients.insert.run(messageId, personId, email, name, attributes, now);
          added++;
        }
      }
      return { added, updated };
    })();
  }

  async getRecipient(id: number): Promise<RecipientRecord | null> {
    const row = this.s.recipients.byId.get(id) as RecipientRow | undefined;
    return row ? toRecipient(row) : null;
  }

  async findRecipient(messageId: number, email: string): Promise<AddressedRecipient | null> {
    const row = this.s.recipients.byEmail.get(messageId, email.trim()) as RecipientRow | undefined;
    return row ? (toRecipient(row) as AddressedRecipient) : null;
  }

  async firstRecipient(messageId: number): Promise<AddressedRecipient | null> {
    const row = this.s.recipients.first.get(messageId) as RecipientRow | undefined;
    return row ? (toRecipient(row) as AddressedRecipient) : null;
  }

  async markMessageSent(messageId: number, at: number): Promise<void> {
    this.s.messages.markSent.run(at, messageId);
  }

  async delivery(messageId: number): Promise<Delivery> {
    return this.s.recipients.delivery.get(messageId) as Delivery;
  }

  async claimUnsent(messageId: number, node: string): Promise<{ claimed: AddressedRecipient[]; skipped: AddressedRecipient[] }> {
    return this.db
      .transaction(() => {
        // Only rows the team added are ever unsent: an in-app row is made sent when it is shown.
        const rows = (this.s.recipients.claimUnsent.all({ message: messageId, node }) as RecipientRow[]).map((r) => toRecipient(r) as AddressedRecipient).sort((a, b) => a.id - b.id);
        if (rows.length > 0) this.s.messages.markSent.run(Date.now(), messageId);
        return { claimed: rows.filter((r) => r.status === 'sending'), skipped: rows.filter((r) => r.status === 'skipped') };
      })
      .immediate();
  }

  async releaseClaims(messageId: number, recipientIds: number[]): Promise<void> {
    this.db.transaction(() => {
      for (const id of recipientIds) this.s.recipients.release.run(id);
      this.s.messages.unmarkSent.run(messageId);
    })();
  }

  async recordDelivery(recipientId: number, outcome: { ok: true; at: number } | { ok: false; error: string }): Promise<void> {
    if (outcome.ok) this.s.recipients.sent.run(outcome.at, recipientId);
    else this.s.recipients.failed.run(outcome.error.slice(0, 500), recipientId);
  }

  async markPushed(recipientId: number, at: number): Promise<void> {
    this.s.recipients.pushed.run(at, recipientId);
  }

  // ---- in-app messages

  async unseenInApp(viewer: InAppViewer): Promise<MessageRecord[]> {
    const rows = this.s.messages.unseenInApp.all({ visitor: viewer.visitorId, person: viewer.person?.id ?? null }) as MessageRow[];
    return rows.map((r) => this.toMessage(r));
  }

  async showInApp(messageId: number, viewer: InAppViewer, at: number): Promise<RecipientRecord | null> {
    const { person } = viewer;
    const row = this.s.recipients.showInApp.get({
      message: messageId,
      person: person?.id ?? null,
      visitor: viewer.visitorId,
      email: person?.email ?? null,
      name: person?.name ?? null,
      at,
    }) as RecipientRow | undefined;
    return row ? toRecipient(row) : null;
  }

  async dismissInApp(messageId: number, visitorId: number, at: number): Promise<boolean> {
    return this.s.recipients.dismissInApp.all(at, messageId, visitorId).length > 0;
  }

  // ---- unsubscribes and the suppression list

  async unsubscribe(recipientId: number, at: number): Promise<boolean> {
    return this.db.transaction(() => {
      this.s.suppressions.addRecipient.run(at, recipientId);
      return this.s.recipients.unsubscribe.get(at, recipientId) !== undefined;
    })();
  }

  async listSuppressions(limit: number): Promise<Suppression[]> {
    return (this.s.suppressions.newest.all(limit) as SuppressionRow[]).map(toSuppression);
  }

  async liftSuppression(email: string): Promise<boolean> {
    return this.s.suppressions.delete.run(suppressionKey(email)).changes > 0;
  }

  // ---- stats

  private counts(messageId: number): { opens: Counts; clicks: ClickCounts } {
    const c = this.s.counts.ofMessage.get(messageId) as Record<string, number> | undefined;
    const counts = (prefix: 'clicks' | 'opens'): Counts => ({
      total: c?.[`${prefix}_total`] ?? 0,
      unique: c?.[`${prefix}_unique`] ?? 0,
      bot: c?.[`${prefix}_bot`] ?? 0,
    });
    return { opens: counts('opens'), clicks: { ...counts('clicks'), suspect: c?.clicks_suspect ?? 0 } };
  }

  async messageStats(messageId: number) {
    const links = statsLinks(this.s.counts.linksOfMessage.all(messageId) as LinkCountsRow[]);
    const reasons = clickReasons(this.s.counts.reasonsOfMessage.all(messageId) as ReasonRow[]);
    const hours = timeline(this.s.counts.hoursOfMessage.all(messageId) as HourRow[]);
    const { n } = this.s.recipients.goalsReached.get(messageId) as { n: number };
    const unsubscribes = (this.s.recipients.unsubscribes.get(messageId) as { n: number }).n;
    return { ...this.counts(messageId), unsubscribes, reasons, links, timeline: hours, goalCompleted: n };
  }

  async people(messageId: number): Promise<PersonStats[]> {
    return peopleStats(
      this.s.recipients.ofMessage.all(messageId) as PersonRow[],
      this.s.counts.pairsOfMessage.all(messageId) as PairRow[],
      this.s.counts.reasonsOfPeople.all(messageId) as (ReasonRow & { recipient_id: number; link_id: number })[],
    );
  }


  async headlines(messageIds: number[]) {
    return new Map(messageIds.map((id) => [id, this.counts(id)]));
  }

  async clickVerdict(recipientId: number, linkId: number, at: number): Promise<'person' | 'machine' | null> {
    const row = this.s.clicks.verdict.get(recipientId, linkId, at) as { bot_reason: string | null; suspect_reason: string | null } | undefined;
    if (!row) return null;
    return row.bot_reason === null && row.suspect_reason === null ? 'person' : 'machine';
  }

  // ---- the messenger: visitors, conversations, visits

  async createVisitor(secretHash: Buffer): Promise<VisitorRecord> {
    const now = Date.now();
    const { lastInsertRowid } = this.s.visitors.insert.run(secretHash, now, now);
    return { id: Number(lastInsertRowid), secretHash, identity: null, hasContactEmail: false };
  }

  async getVisitor(id: number): Promise<VisitorRecord | null> {
    const r = this.s.visitors.byId.get(id) as VisitorRow | undefined;
    return r ? toVisitor(r) : null;
  }

  async setVisitorIdentity(id: number, identity: VisitorIdentity | null): Promise<void> {
    this.s.visitors.identify.run(identity?.personId ?? null, identity?.identifiedBy ?? null, identity?.recipientId ?? null, identity?.linkId ?? null, Date.now(), id);
  }

  async attachConversations(visitorId: number, identity: VisitorIdentity): Promise<void> {
    this.db.transaction(() => {
      this.s.conversations.attach.run(identity.personId, identity.identifiedBy, visitorId);
      // They have an address now: their replies not yet seen may be mailed.
      this.s.conversations.findUnseenRepliesOfVisitor.run(visitorId);
    })();
  }

  async startConversation(c: {
    visitorId: number;
    identity: VisitorIdentity | null;
    pageUrl: string | null;
    body: string;
    clientId: string;
    at: number;
  }): Promise<{ conversation: StoredConversation; created: boolean }> {
    const existing = this.s.conversationMessages.byClientId.get(c.clientId) as { conversation_id: number } | undefined;
    if (existing) return { conversation: (await this.getConversation(existing.conversation_id))!, created: false };
    const id = this.db.transaction(() => {
      const { lastInsertRowid } = this.s.conversations.insert.run(
        c.visitorId,
        c.identity?.personId ?? null,
        c.identity?.identifiedBy ?? null,
        c.pageUrl,
        c.at,
        c.at,
        c.body.slice(0, PREVIEW_CHARS),
      );
      this.s.conversationMessages.insert.get(lastInsertRowid, 'visitor', c.body, c.clientId, c.at);
      return Number(lastInsertRowid);
    })();
    return { conversation: (await this.getConversation(id))!, created: true };
  }

  async addMessage(
    conversationId: number,
    m: { author: ConversationMessage['author']; body: string; clientId: string | null; at: number },
  ): Promise<{ message: ConversationMessage; created: boolean }> {
    if (m.clientId !== null) {
      const existing = this.s.conversationMessages.byClientId.get(m.clientId) as ConversationMessageRow | undefined;
      if (existing) return { message: toConversationMessage(existing), created: false };
    }
    const row = this.db.transaction(() => {
      const inserted = this.s.conversationMessages.insert.get(conversationId, m.author, m.body, m.clientId, m.at) as ConversationMessageRow;
      this.s.conversations.touch.run(m.at, m.body.slice(0, PREVIEW_CHARS), conversationId);
      if (m.author === 'team') this.s.conversations.replyWaiting.run(m.at, conversationId);
      return inserted;
    })();
    return { message: toConversationMessage(row), created: true };
  }

  private withMessages(r: ConversationRow): StoredConversation {
    const messages = (this.s.conversationMessages.ofConversation.all(r.id) as ConversationMessageRow[]).map(toConversationMessage);
    return { ...toSummary(r), visitorId: r.visitor_id, messages };
  }

  async getConversation(id: number): Promise<StoredConversation | null> {
    const r = this.s.conversations.byId.get(id) as ConversationRow | undefined;
    return r ? this.withMessages(r) : null;
  }

  async getConversationHead(id: number): Promise<ConversationHead | null> {
    const r = this.s.conversations.byId.get(id) as ConversationRow | undefined;
    return r ? { ...toSummary(r), visitorId: r.visitor_id } : null;
  }

  async listConversations(limit: number): Promise<ConversationSummary[]> {
    return (this.s.conversations.newest.all(limit) as ConversationRow[]).map(toSummary);
  }

  async visibleConversations(scope: VisitorScope, limit: number): Promise<StoredConversation[]> {
    const rows = this.s.conversations.visible.all({ visitor: scope.visitorId, verified: scope.verifiedPersonId, limit }) as ConversationRow[];
    return rows.map((r) => this.withMessages(r));
  }

  async visibleMessagesAfter(scope: VisitorScope, after: number, limit: number): Promise<ConversationMessage[]> {
    const rows = this.s.conversationMessages.visibleAfter.all({ after, visitor: scope.visitorId, verified: scope.verifiedPersonId, limit }) as ConversationMessageRow[];
    return rows.map(toConversationMessage);
  }

  async lastMessageId(): Promise<number> {
    return (this.s.conversationMessages.lastId.get() as { id: number }).id;
  }

  async recordVisit(v: NewVisit, since: number): Promise<{ recent: boolean }> {
    return this.db.transaction(() => {
      const recent = this.s.visits.recent.get(v.personId, v.url, since);
      this.s.visits.insert.run(v.visitorId, v.personId, v.url, v.referrer, v.recipientId, v.linkId, v.at);
      return { recent: recent !== undefined };
    })();
  }

  // ---- the team's event log, webhooks, goals

  async appendTeamEvent(e: NewTeamEvent): Promise<TeamEvent> {
    const { type, at, ...data } = e;
    const { lastInsertRowid } = this.s.teamEvents.insert.run(type, JSON.stringify(data), Date.parse(at));
    return { id: Number(lastInsertRowid), ...e } as TeamEvent;
  }

  async teamEventsAfter(after: number, limit: number): Promise<TeamEvent[]> {
    const rows = this.s.teamEvents.after.all(after, limit) as { id: number; type: TeamEvent['type']; data: string; at: number }[];
    return rows.map((r) => ({ id: r.id, type: r.type, at: iso(r.at), ...JSON.parse(r.data) }) as TeamEvent);
  }

  async lastTeamEventId(): Promise<number> {
    return (this.s.teamEvents.lastId.get() as { id: number }).id;
  }

  async webhookCursor(): Promise<number | null> {
    return (this.s.teamEvents.webhookCursor.get() as { delivered_through: number } | undefined)?.delivered_through ?? null;
  }

  async takeWebhookLease(node: string, ms: number): Promise<boolean> {
    return this.s.teamEvents.takeWebhookLease.get({ node, ms }) !== undefined;
  }

  async releaseWebhookLease(node: string): Promise<void> {
    this.s.teamEvents.releaseWebhookLease.run(node);
  }

  async setWebhookCursor(id: number, node: string): Promise<boolean> {
    return this.s.teamEvents.moveWebhookCursor.get({ id, node }) !== undefined;
  }

  async recordPersonEvent(e: { personId: number; name: string; source: 'api' | 'widget'; at: number }): Promise<{ goalsCompleted: number }> {
    return this.db.transaction(() => {
      this.s.personEvents.insert.run(e.personId, e.name, e.source, e.at);
      const { changes } = this.s.recipients.reachGoal.run({ at: e.at, person: e.personId, name: e.name });
      return { goalsCompleted: changes };
    })();
  }

  // ---- replies by email

  async markConversationSeen(conversationId: number, through: number): Promise<void> {
    this.db.transaction(() => {
      this.s.conversations.seen.run({ id: conversationId, through });
      this.s.conversations.findUnseenReply.run(conversationId);
    })();
  }

  async setContactEmail(visitorId: number, email: string): Promise<void> {
    this.db.transaction(() => {
      this.s.visitors.setContactEmail.run(email.trim(), visitorId);
      this.s.conversations.findUnseenRepliesOfVisitor.run(visitorId);
    })();
  }

  async repliesByEmail(conversationId: number) {
    const state = this.s.conversations.replyState.get(conversationId) as ReplyStateRow | undefined;
    if (!state) return null;
    const emails = this.s.replyEmails.ofConversation.all(conversationId) as ReplyEmailRow[];
    return { contactEmail: state.contact_email, seenThrough: state.seen_through, replyEmails: emails.map(toReplyEmail) };
  }

  async claimReplyEmails(clock: ReplyEmailClock, limit: number): Promise<ReplyEmailClaim[]> {
    return this.db
      .transaction(() => {
        const rows = this.s.replyEmails.reclaim.all({
          now: clock.now,
          abandoned: clock.abandonedBefore,
          retry: clock.retryBefore,
          attempts: clock.maxAttempts,
          limit,
        }) as ReplyEmailRow[];
        for (const { id } of this.s.conversations.repliesDue.all(clock.dueBy, limit) as { id: number }[]) {
          const batch = this.s.conversations.replyBatch.get(id) as ReplyBatchRow;
          if (!mailsBatch(batch, clock.oldestBy)) {
            this.s.conversations.repliesPassed.run(id);
            continue;
          }
          rows.push(this.s.replyEmails.insert.get(id, batch.after, batch.through, clock.now, clock.now) as ReplyEmailRow);
          this.s.conversations.repliesTaken.run(batch.through, id);
        }
        return rows.map(toReplyEmailClaim);
      })
      .immediate();
  }

  async replyEmailContent(claim: ReplyEmailClaim) {
    const state = this.s.conversations.replyState.get(claim.conversationId) as ReplyStateRow | undefined;
    if (!state) return { address: null, pageUrl: null, replies: [] };
    const after = Math.max(claim.after, state.seen_through);
    const replies = this.s.conversationMessages.teamRepliesBetween.all(claim.conversationId, after, claim.through) as ConversationMessageRow[];
    return { address: state.address, pageUrl: state.page_url, replies: replies.map(toConversationMessage) };
  }

  async recordReplyEmail(id: number, outcome: ReplyEmailOutcome): Promise<void> {
    this.s.replyEmails.finish.run(outcome.status, outcome.status === 'sent' ? outcome.at : null, outcome.status === 'failed' ? outcome.error.slice(0, 500) : null, id);
  }

  async replyEmailTarget(id: number) {
    const r = this.s.replyEmails.target.get(id) as { conversation_id: number; page_url: string | null; sent_at: number | null } | undefined;
    return r ? { conversationId: r.conversation_id, pageUrl: r.page_url, sentAt: r.sent_at } : null;
  }

  async replyEmailFollowed(id: number, at: number): Promise<void> {
    this.s.replyEmails.followed.run(at, id);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
