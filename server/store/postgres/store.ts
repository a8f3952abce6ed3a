import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
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
import { applyClicks, Counters, LinkFacts, refusesTheWrite, severalNodes, writeCounters } from './click-batch.ts';
import { createPool, isStatementError, statements as s, type CopyIn, type Run, type Statement } from './database.ts';
import { migrate } from './migrations.ts';
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

/** SQLSTATE unique_violation: another node made the row first. */
const UNIQUE_VIOLATION = '23505';

/** SQLite's COLLATE NOCASE, which the people_by_email index keys leads by: ASCII letters fold. */
const emailKey = (email: string) => email.replace(/[A-Z]+/g, (c) => c.toLowerCase());

const runOn =
  (q: pg.Pool | pg.PoolClient): Run =>
  (statement: Statement, values: unknown[] = []) =>
    q.query({ name: statement.name, text: statement.text, values });

const copyOn =
  (client: pg.PoolClient): CopyIn =>
  (statement: Statement, rows: string) =>
    new Promise<void>((resolve, reject) => {
      const stream = client.query(copyFrom(statement.text));
      stream.on('error', reject);
      stream.on('finish', resolve);
      stream.end(rows);
    });

/**
 * The store on a PostgreSQL database shared by any number of servers: CLICKTRAIL_DATABASE_URL.
 * Every statement is in sql/, by table, under the names the SQLite store uses for the same
 * meaning, and is prepared once per connection. The constructor returns at once (the server
 * is built synchronously): it makes the pool and starts the migrations; every call waits for
 * them, and a start that met an unavailable database tries again at the next call.
 */
export class PgStore implements Store {
  readonly pool: pg.Pool;
  private readonly run: Run;
  private migrated: Promise<void> | null = null;
  private readonly facts = new LinkFacts();
  private settings: Settings | null = null;
  private settingsReadAt = 0;
  private closed = false;
  private readonly releasesClaims: ClaimRelease | null;

  /**
   * busyTimeoutMs: as the SQLite store's, the wait the redirect must not have. Here a wait
   * never blocks the event loop, so it only shortens how long a call waits for a connection
   * (the database being down or unreachable) on the redirect's store. It also tells the
   * stores apart for their pools: the routes' (none given) up to 10 connections, the
   * redirect's (0) up to 4, the click writer's (any other) 2: it commits one batch at a time.
   */
  constructor(
    readonly url: string,
    opts: { busyTimeoutMs?: number; max?: number; releaseClaims?: ClaimRelease } = {},
  ) {
    this.pool = createPool(url, {
      connectionTimeoutMs: opts.busyTimeoutMs === 0 ? 2_000 : 10_000,
      lockTimeoutMs: 10_000,
      max: opts.max ?? (opts.busyTimeoutMs === undefined ? 10 : opts.busyTimeoutMs === 0 ? 4 : 2),
    });
    this.run = runOn(this.pool);
    this.releasesClaims = opts.releaseClaims ?? null;
    // Started now; a failure is reported to whichever call waits for it (and tried again then).
    this.ready().catch((err: Error) => console.error(`[clicktrail] PostgreSQL is not ready (${err.message}): calls wait for it, clicks wait in the journal`));
  }

  /**
   * Migrated, and, by the routes' store (the one that sends), the claims a crashed send left
   * given back, as the SQLite store does when it opens. (Not by the redirect's or the
   * writer's: a writer thread started again must not give back the claims of a send under way.)
   */
  private ready(): Promise<void> {
    this.migrated ??= (async () => {
      await migrate(this.pool);
      if (!this.releasesClaims) return;
      try {
        await this.run(s.recipients.releaseClaims, [this.releasesClaims.nodes, this.releasesClaims.unnamed]);
      } catch (err) {
        console.error(`[clicktrail] could not give back the claims of an earlier send (${(err as Error).message}): the next start will`);
      }
    })().catch((err) => {
      this.migrated = null;
      throw err;
    });
    return this.migrated;
  }

  private async q<R = Record<string, unknown>>(statement: Statement, values: unknown[] = []): Promise<R[]> {
    await this.ready();
    return (await this.run(statement, values)).rows as R[];
  }

  private async one<R = Record<string, unknown>>(statement: Statement, values: unknown[] = []): Promise<R | undefined> {
    return (await this.q<R>(statement, values))[0];
  }

  /** Any SQL, for tests and tools: `$1`-style parameters. */
  async query<R = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<R[]> {
    await this.ready();
    return (await this.pool.query(text, values)).rows as R[];
  }

  /** fn in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  private async transaction<T>(fn: (run: Run, copyIn: CopyIn) => Promise<T>): Promise<T> {
    await this.ready();
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        const result = await fn(runOn(client), copyOn(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => (broken = e));
        throw err;
      }
    } catch (err) {
      // A connection that failed (not a statement it ran) is not given back to the pool.
      if (!isStatementError(err) && !(err instanceof HitRefused) && !(err instanceof JournalMoved)) broken ??= err as Error;
      throw err;
    } finally {
      client.release(broken);
    }
  }

  // ---- the click journal's writes (JournalTarget)

  async commit(batch: TrackingWrite[], journal?: Move): Promise<void> {
    await this.transaction(async (run, copyIn) => {
      if (journal) await this.move(run, journal);
      const counters = new Counters();
      try {
        const shared = await severalNodes(run, s, batch);
        await applyClicks(run, copyIn, s, this.facts, batch, counters, shared);
        await writeCounters(run, s, counters);
      } catch (err) {
        throw refusesTheWrite(err) && !(err instanceof HitRefused) ? new HitRefused((err as Error).message, { cause: err }) : err;
      }
    });
  }

  /**
   * As commit, leaving out the writes the database refuses for themselves. Each write is
   * judged on a savepoint of its own, but found by halves: a part of the batch that goes in
   * whole is written in bulk, a part that is refused is split and tried again, down to the
   * single writes refused. The result is the same as one savepoint per write (the parts are
   * applied in journal order, each on what the ones before it wrote), at a cost that grows
   * with the refused writes, not with the batch.
   */
  async commitEach(batch: TrackingWrite[], journal: Move, setAside: (refused: Refusal[]) => void): Promise<number> {
    return this.transaction(async (run, copyIn) => {
      await this.move(run, journal);
      const shared = await severalNodes(run, s, batch);
      const counters = new Counters();
      const refused: Refusal[] = [];
      const attempt = async (from: number, to: number): Promise<void> => {
        await run({ name: '', text: 'SAVEPOINT hits' });
        const part = new Counters();
        try {
          await applyClicks(run, copyIn, s, this.facts, batch.slice(from, to), part, shared);
          await run({ name: '', text: 'RELEASE SAVEPOINT hits' });
          counters.merge(part);
        } catch (err) {
          if (!refusesTheWrite(err)) throw err;
          await run({ name: '', text: 'ROLLBACK TO SAVEPOINT hits' });
          await run({ name: '', text: 'RELEASE SAVEPOINT hits' });
          if (to - from === 1) refused.push({ index: from, error: (err as Error).message });
          else await halves(from, to);
        }
      };
      const halves = async (from: number, to: number) => {
        const mid = from + Math.ceil((to - from) / 2);
        await attempt(from, mid);
        await attempt(mid, to);
      };
      // commit() refused the whole batch already: start with its halves.
      if (batch.length === 1) await attempt(0, 1);
      else if (batch.length > 1) await halves(0, batch.length);
      await writeCounters(run, s, counters);
      if (refused.length > 0) setAside(refused);
      return batch.length - refused.length;
    });
  }

  /** Moves the node's position from where this writer thought it was, or throws JournalMoved; the row stays locked to the commit. */
  private async move(run: Run, journal: Move): Promise<void> {
    const { node, from, to } = journal;
    const { rows } = from
      ? await run(s.journal.move, [node, to.segment, to.offset, from.segment, from.offset])
      : await run(s.journal.start, [node, to.segment, to.offset]);
    if (rows.length === 1) return;
    const at = ((await run(s.journal.position, [node])).rows[0] as JournalPosition | undefined) ?? null;
    throw new JournalMoved(`the click journal of ${node} was at ${JSON.stringify(at)}, not ${JSON.stringify(from)}`);
  }

  async journalPosition(node: string): Promise<JournalPosition | null> {
    const own = await this.one<JournalPosition>(s.journal.position, [node]);
    if (own) return own;
    try {
      await this.q(s.journal.adoptLegacy, [node]);
    } catch (err) {
      // Another writer of this node made its row meanwhile: that is the position.
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
    }
    return (await this.one<JournalPosition>(s.journal.position, [node])) ?? null;
  }

  // ---- settings

  settingsNow(): Settings | null {
    return this.settings && Date.now() - this.settingsReadAt <= SETTINGS_TTL_MS ? this.settings : null;
  }

  async getSettings(): Promise<Settings> {
    const now = Date.now();
    if (!this.settings || now - this.settingsReadAt > SETTINGS_TTL_MS) {
      try {
        const row = await this.one<{ data: string }>(s.settings.get);
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
    const row = (await this.one<{ data: string }>(s.settings.put, [JSON.stringify(patch)]))!;
    this.settings = { ...DEFAULT_SETTINGS, ...JSON.parse(row.data) };
    this.settingsReadAt = Date.now();
    return this.settings!;
  }

  // ---- messages and links

  async createMessage(m: NewMessage): Promise<MessageRecord> {
    const now = Date.now();
    const id = await this.transaction(async (run) => {
      const { rows } = await run(s.messages.insert, [...contentValues(m), m.channel, m.audience && JSON.stringify(m.audience), m.push && JSON.stringify(m.push), now]);
      const id = (rows[0] as { id: number }).id;
      await this.insertLinks(run, id, m);
      return id;
    });
    return (await this.getMessage(id))!;
  }

  private toMessage(row: MessageRow, links: LinkRow[]): MessageRecord {
    return toMessageRecord(row, links);
  }

  private async insertLinks(run: Run, messageId: number, m: NewMessage): Promise<void> {
    const links = m.compiled.links;
    if (links.length > 0) {
      await run(s.links.insert, [
        messageId,
        links.map((l) => l.position),
        links.map((l) => l.part),
        links.map((l) => l.url),
        links.map((l) => l.text),
        links.map((l) => (l.tracked ? 1 : 0)),
        links.map((l) => l.reason ?? null),
      ]);
    }
    // Only a message with tracked links gets a honeypot: with tracking off, nothing is tracked at all.
    if (m.channel === 'email' && links.some((l) => l.tracked)) await run(s.links.insertHoneypot, [messageId]);
  }

  /** The hits on a draft's previews and their counters: they go with the links they were on. */
  private async forgetTracking(run: Run, messageId: number): Promise<void> {
    for (const statement of [
      s.clicks.deleteOfMessage,
      s.opens.deleteOfMessage,
      s.counts.deleteLinksOfMessage,
      s.counts.deletePairsOfMessage,
      s.counts.deleteReasonsOfMessage,
      s.counts.deleteHoursOfMessage,
      s.counts.deleteOfMessage,
    ]) {
      await run(statement, [messageId]);
    }
  }

  // Each takes the message's row lock first, as a send's claim does: one of them waits for the other.
  async updateDraft(id: number, m: NewMessage): Promise<DraftChange> {
    return this.transaction(async (run): Promise<DraftChange> => {
      const { rows } = await run(s.messages.updateDraft, [...contentValues(m), id]);
      if (rows.length === 0) return (await run(s.messages.sentAt, [id])).rows.length === 0 ? 'missing' : 'sent';
      await this.forgetTracking(run, id);
      await run(s.recipients.resetCounts, [id]);
      await run(s.links.deleteOfMessage, [id]);
      await this.insertLinks(run, id, m);
      return 'done';
    });
  }

  async deleteDraft(id: number): Promise<DraftChange> {
    return this.transaction(async (run): Promise<DraftChange> => {
      const row = (await run(s.messages.lock, [id])).rows[0] as { sent_at: number | null } | undefined;
      if (!row) return 'missing';
      if (row.sent_at !== null) return 'sent';
      await this.forgetTracking(run, id);
      await run(s.suppressions.forgetMessage, [id]);
      await run(s.recipients.deleteOfMessage, [id]);
      await run(s.links.deleteOfMessage, [id]);
      await run(s.messages.deleteDraft, [id]);
      return 'done';
    });
  }

  async getMessage(id: number): Promise<MessageRecord | null> {
    const row = await this.one<MessageRow>(s.messages.byId, [id]);
    return row ? toMessageRecord(row, await this.q<LinkRow>(s.links.ofMessage, [id])) : null;
  }

  async listMessages(limit: number): Promise<MessageRecord[]> {
    const rows = await this.q<MessageRow>(s.messages.newest, [limit]);
    const links = await this.q<LinkRow>(s.links.ofMessages, [rows.map((r) => r.id)]);
    return rows.map((r) => toMessageRecord(r, links.filter((l) => l.message_id === r.id)));
  }

  async getLink(id: number): Promise<LinkTarget | null> {
    const row = await this.one<{ id: number; message_id: number; channel: LinkTarget['channel']; url: string; tracked: number; honeypot: number; tracked_links: number }>(
      s.links.target,
      [id],
    );
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
    return (await this.one<{ messageId: number; subject: string; linkUrl: string | null }>(s.links.clickOrigin, [linkId, recipientId])) ?? null;
  }

  // ---- people and recipients

  async getPerson(id: number): Promise<PersonRef | null> {
    return (await this.one<PersonRef>(s.people.byId, [id])) ?? null;
  }

  async upsertPerson(email: string, name: string | null): Promise<PersonRef> {
    return (await this.one<PersonRef>(s.people.upsertLead, [email.trim(), name, Date.now()]))!;
  }

  async upsertVerifiedPerson(userId: string, { email, name }: { email: string; name: string | null }): Promise<PersonRef> {
    return (await this.one<PersonRef>(s.people.upsertVerified, [userId, email.trim(), name, Date.now()]))!;
  }

  async addRecipients(messageId: number, recipients: NewRecipient[]): Promise<{ added: number; updated: number }> {
    const now = Date.now();
    const list = recipients.map((r) => ({ email: r.email.trim(), name: r.name ?? null, attributes: JSON.stringify(r.attributes ?? {}) }));
    return this.transaction(async (run) => {
      const keys = list.map((r) => emailKey(r.email));
      if (new Set(keys).size < keys.length) {
        // Someone twice in one list: one at a time, as SQLite does, so the later one updates the first.
        let added = 0;
        let updated = 0;
        for (const r of list) {
          const { id: personId } = (await run(s.people.upsertLead, [r.email, r.name, now])).rows[0] as { id: number };
          const row = (await run(s.recipients.byMessageAndPerson, [messageId, personId])).rows[0] as { id: number } | undefined;
          if (row) {
            await run(s.recipients.update, [r.name, r.attributes, row.id]);
            updated++;
          } else {
            await run(s.recipients.insert, [messageId, personId, r.email, r.name, r.attributes, now]);
            added++;
          }
        }
        return { added, updated };
      }
      if (list.length === 0) return { added: 0, updated: 0 };
      // Everyone once: the people in one statement, then who of them is on the message already, then the updates and the inserts.
      const people = (await run(s.people.upsertLeads, [list.map((r) => r.email), list.map((r) => r.name), now])).rows as { id: number; key: string }[];
      const idOf = new Map(people.map((p) => [p.key, p.id]));
      const personIds = keys.map((k) => idOf.get(k)!);
      const existing = new Map(((await run(s.recipients.ofPeople, [messageId, personIds])).rows as { id: number; person_id: number }[]).map((r) => [r.person_id, r.id]));
      const updates = list.map((r, i) => ({ ...r, id: existing.get(personIds[i]!) })).filter((r) => r.id !== undefined);
      const inserts = list.map((r, i) => ({ ...r, personId: personIds[i]! })).filter((r) => !existing.has(r.personId));
      if (updates.length > 0) await run(s.recipients.updateMany, [updates.map((r) => r.id), updates.map((r) => r.name), updates.map((r) => r.attributes)]);
      if (inserts.length > 0) {
        await run(s.recipients.insertMany, [
          messageId,
          inserts.map((r) => r.personId),
          inserts.map((r) => r.email),
          inserts.map((r) => r.name),
          inserts.map((r) => r.attributes),
          now,
        ]);
      }
      return { added: inserts.length, updated: updates.length };
    });
  }

  async getRecipient(id: number): Promise<RecipientRecord | null> {
    const row = await this.one<RecipientRow>(s.recipients.byId, [id]);
    return row ? toRecipient(row) : null;
  }

  async findRecipient(messageId: number, email: string): Promise<AddressedRecipient | null> {
    const row = await this.one<RecipientRow>(s.recipients.byEmail, [messageId, email.trim()]);
    return row ? (toRecipient(row) as AddressedRecipient) : null;
  }

  async firstRecipient(messageId: number): Promise<AddressedRecipient | null> {
    const row = await this.one<RecipientRow>(s.recipients.first, [messageId]);
    return row ? (toRecipient(row) as AddressedRecipient) : null;
  }

  async markMessageSent(messageId: number, at: number): Promise<void> {
    await this.q(s.messages.markSent, [messageId, at]);
  }

  async delivery(messageId: number): Promise<Delivery> {
    return (await this.one<Delivery>(s.recipients.delivery, [messageId]))!;
  }

  async claimUnsent(messageId: number, node: string): Promise<{ claimed: AddressedRecipient[]; skipped: AddressedRecipient[] }> {
    return this.transaction(async (run) => {
      // The message first, as an edit or deletion of a draft takes it: never each waiting for the other's rows.
      await run(s.messages.lock, [messageId]);
      // Only rows the team added are ever unsent: an in-app row is made sent when it is shown.
      const rows = ((await run(s.recipients.claimUnsent, [messageId, node])).rows as RecipientRow[])
        .map((r) => toRecipient(r) as AddressedRecipient)
        .sort((a, b) => a.id - b.id);
      if (rows.length > 0) await run(s.messages.markSent, [messageId, Date.now()]);
      return { claimed: rows.filter((r) => r.status === 'sending'), skipped: rows.filter((r) => r.status === 'skipped') };
    });
  }

  async releaseClaims(messageId: number, recipientIds: number[]): Promise<void> {
    await this.transaction(async (run) => {
      if (recipientIds.length > 0) await run(s.recipients.release, [recipientIds]);
      await run(s.messages.unmarkSent, [messageId]);
    });
  }

  async recordDelivery(recipientId: number, outcome: { ok: true; at: number } | { ok: false; error: string }): Promise<void> {
    if (outcome.ok) await this.q(s.recipients.sent, [outcome.at, recipientId]);
    else await this.q(s.recipients.failed, [outcome.error.slice(0, 500), recipientId]);
  }

  async markPushed(recipientId: number, at: number): Promise<void> {
    await this.q(s.recipients.pushed, [at, recipientId]);
  }

  // ---- in-app messages

  async unseenInApp(viewer: InAppViewer): Promise<MessageRecord[]> {
    const rows = await this.q<MessageRow>(s.messages.unseenInApp, [viewer.visitorId, viewer.person?.id ?? null]);
    if (rows.length === 0) return [];
    const links = await this.q<LinkRow>(s.links.ofMessages, [rows.map((r) => r.id)]);
    return rows.map((r) => this.toMessage(r, links.filter((l) => l.message_id === r.id)));
  }

  async showInApp(messageId: number, viewer: InAppViewer, at: number): Promise<RecipientRecord | null> {
    const { person } = viewer;
    const row = await this.one<RecipientRow>(s.recipients.showInApp, [messageId, person?.id ?? null, viewer.visitorId, person?.email ?? null, person?.name ?? null, at]);
    return row ? toRecipient(row) : null;
  }

  async dismissInApp(messageId: number, visitorId: number, at: number): Promise<boolean> {
    return (await this.q(s.recipients.dismissInApp, [at, messageId, visitorId])).length > 0;
  }

  // ---- unsubscribes and the suppression list

  async unsubscribe(recipientId: number, at: number): Promise<boolean> {
    return this.transaction(async (run) => {
      await run(s.suppressions.addRecipient, [at, recipientId]);
      return (await run(s.recipients.unsubscribe, [at, recipientId])).rows.length > 0;
    });
  }

  async listSuppressions(limit: number): Promise<Suppression[]> {
    return (await this.q<SuppressionRow>(s.suppressions.newest, [limit])).map(toSuppression);
  }

  async liftSuppression(email: string): Promise<boolean> {
    await this.ready();
    return ((await this.run(s.suppressions.delete, [suppressionKey(email)])).rowCount ?? 0) > 0;
  }

  // ---- stats

  private static counts(c: Record<string, number> | undefined): { opens: Counts; clicks: ClickCounts } {
    const counts = (prefix: 'clicks' | 'opens'): Counts => ({
      total: c?.[`${prefix}_total`] ?? 0,
      unique: c?.[`${prefix}_unique`] ?? 0,
      bot: c?.[`${prefix}_bot`] ?? 0,
    });
    return { opens: counts('opens'), clicks: { ...counts('clicks'), suspect: c?.clicks_suspect ?? 0 } };
  }

  async messageStats(messageId: number) {
    const links = statsLinks(await this.q<LinkCountsRow>(s.counts.linksOfMessage, [messageId]));
    const reasons = clickReasons(await this.q<ReasonRow>(s.counts.reasonsOfMessage, [messageId]));
    const hours = timeline(await this.q<HourRow>(s.counts.hoursOfMessage, [messageId]));
    const { n } = (await this.one<{ n: number }>(s.recipients.goalsReached, [messageId]))!;
    const unsubscribes = (await this.one<{ n: number }>(s.recipients.unsubscribes, [messageId]))!.n;
    const counts = PgStore.counts(await this.one<Record<string, number>>(s.counts.ofMessage, [messageId]));
    return { ...counts, unsubscribes, reasons, links, timeline: hours, goalCompleted: n };
  }

  async people(messageId: number): Promise<PersonStats[]> {
    return peopleStats(
      await this.q<PersonRow>(s.recipients.ofMessage, [messageId]),
      await this.q<PairRow>(s.counts.pairsOfMessage, [messageId]),
      await this.q<ReasonRow & { recipient_id: number; link_id: number }>(s.counts.reasonsOfPeople, [messageId]),
    );
  }


  async headlines(messageIds: number[]) {
    const rows = await this.q<Record<string, number>>(s.counts.ofMessages, [messageIds]);
    const byId = new Map(rows.map((r) => [r.message_id!, r]));
    return new Map(messageIds.map((id) => [id, PgStore.counts(byId.get(id))]));
  }

  async clickVerdict(recipientId: number, linkId: number, at: number): Promise<'person' | 'machine' | null> {
    const row = await this.one<{ bot_reason: string | null; suspect_reason: string | null }>(s.clicks.verdict, [recipientId, linkId, at]);
    if (!row) return null;
    return row.bot_reason === null && row.suspect_reason === null ? 'person' : 'machine';
  }

  // ---- the messenger: visitors, conversations, visits

  async createVisitor(secretHash: Buffer): Promise<VisitorRecord> {
    const now = Date.now();
    const { id } = (await this.one<{ id: number }>(s.visitors.insert, [secretHash, now, now]))!;
    return { id, secretHash, identity: null, hasContactEmail: false };
  }

  async getVisitor(id: number): Promise<VisitorRecord | null> {
    const r = await this.one<VisitorRow>(s.visitors.byId, [id]);
    return r ? toVisitor(r) : null;
  }

  async setVisitorIdentity(id: number, identity: VisitorIdentity | null): Promise<void> {
    await this.q(s.visitors.identify, [identity?.personId ?? null, identity?.identifiedBy ?? null, identity?.recipientId ?? null, identity?.linkId ?? null, Date.now(), id]);
  }

  async attachConversations(visitorId: number, identity: VisitorIdentity): Promise<void> {
    await this.transaction(async (run) => {
      await run(s.conversations.attach, [identity.personId, identity.identifiedBy, visitorId]);
      // They have an address now: their replies not yet seen may be mailed.
      await run(s.conversations.findUnseenRepliesOfVisitor, [visitorId]);
    });
  }

  async startConversation(c: {
    visitorId: number;
    identity: VisitorIdentity | null;
    pageUrl: string | null;
    body: string;
    clientId: string;
    at: number;
  }): Promise<{ conversation: StoredConversation; created: boolean }> {
    const existing = async () => {
      const row = await this.one<{ conversation_id: number }>(s.conversationMessages.byClientId, [c.clientId]);
      return row ? { conversation: (await this.getConversation(row.conversation_id))!, created: false } : null;
    };
    const first = await existing();
    if (first) return first;
    try {
      const id = await this.transaction(async (run) => {
        const { rows } = await run(s.conversations.insert, [
          c.visitorId,
          c.identity?.personId ?? null,
          c.identity?.identifiedBy ?? null,
          c.pageUrl,
          c.at,
          c.at,
          c.body.slice(0, PREVIEW_CHARS),
        ]);
        const id = (rows[0] as { id: number }).id;
        await run(s.conversationMessages.insert, [id, 'visitor', c.body, c.clientId, c.at]);
        return id;
      });
      return { conversation: (await this.getConversation(id))!, created: true };
    } catch (err) {
      // The same clientId reached another node (or connection) at the same moment: theirs is the one made.
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
        const theirs = await existing();
        if (theirs) return theirs;
      }
      throw err;
    }
  }

  async addMessage(
    conversationId: number,
    m: { author: ConversationMessage['author']; body: string; clientId: string | null; at: number },
  ): Promise<{ message: ConversationMessage; created: boolean }> {
    const existing = async () => {
      if (m.clientId === null) return null;
      const row = await this.one<ConversationMessageRow>(s.conversationMessages.byClientId, [m.clientId]);
      return row ? { message: toConversationMessage(row), created: false } : null;
    };
    const first = await existing();
    if (first) return first;
    try {
      const row = await this.transaction(async (run) => {
        const inserted = (await run(s.conversationMessages.insert, [conversationId, m.author, m.body, m.clientId, m.at])).rows[0] as ConversationMessageRow;
        await run(s.conversations.touch, [m.at, m.body.slice(0, PREVIEW_CHARS), conversationId]);
        if (m.author === 'team') await run(s.conversations.replyWaiting, [m.at, conversationId]);
        return inserted;
      });
      return { message: toConversationMessage(row), created: true };
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
        const theirs = await existing();
        if (theirs) return theirs;
      }
      throw err;
    }
  }

  private async withMessages(rows: ConversationRow[]): Promise<StoredConversation[]> {
    if (rows.length === 0) return [];
    const messages = await this.q<ConversationMessageRow>(s.conversationMessages.ofConversations, [rows.map((r) => r.id)]);
    return rows.map((r) => ({
      ...toSummary(r),
      visitorId: r.visitor_id,
      messages: messages.filter((m) => m.conversation_id === r.id).map(toConversationMessage),
    }));
  }

  async getConversation(id: number): Promise<StoredConversation | null> {
    const r = await this.one<ConversationRow>(s.conversations.byId, [id]);
    if (!r) return null;
    const messages = (await this.q<ConversationMessageRow>(s.conversationMessages.ofConversation, [id])).map(toConversationMessage);
    return { ...toSummary(r), visitorId: r.visitor_id, messages };
  }

  async getConversationHead(id: number): Promise<ConversationHead | null> {
    const r = await this.one<ConversationRow>(s.conversations.byId, [id]);
    return r ? { ...toSummary(r), visitorId: r.visitor_id } : null;
  }

  async listConversations(limit: number): Promise<ConversationSummary[]> {
    return (await this.q<ConversationRow>(s.conversations.newest, [limit])).map(toSummary);
  }

  async visibleConversations(scope: VisitorScope, limit: number): Promise<StoredConversation[]> {
    return this.withMessages(await this.q<ConversationRow>(s.conversations.visible, [scope.visitorId, scope.verifiedPersonId, limit]));
  }

  async visibleMessagesAfter(scope: VisitorScope, after: number, limit: number): Promise<ConversationMessage[]> {
    const rows = await this.q<ConversationMessageRow>(s.conversationMessages.visibleAfter, [after, scope.visitorId, scope.verifiedPersonId, limit]);
    return rows.map(toConversationMessage);
  }

  async lastMessageId(): Promise<number> {
    return (await this.one<{ id: number }>(s.conversationMessages.lastId))!.id;
  }

  async recordVisit(v: NewVisit, since: number): Promise<{ recent: boolean }> {
    return this.transaction(async (run) => {
      const recent = (await run(s.visits.recent, [v.personId, v.url, since])).rows.length > 0;
      await run(s.visits.insert, [v.visitorId, v.personId, v.url, v.referrer, v.recipientId, v.linkId, v.at]);
      return { recent };
    });
  }

  // ---- the team's event log, webhooks, goals

  async appendTeamEvent(e: NewTeamEvent): Promise<TeamEvent> {
    const { type, at, ...data } = e;
    const { id } = (await this.one<{ id: number }>(s.teamEvents.insert, [type, JSON.stringify(data), Date.parse(at)]))!;
    return { id, ...e } as TeamEvent;
  }

  async teamEventsAfter(after: number, limit: number): Promise<TeamEvent[]> {
    const rows = await this.q<{ id: number; type: TeamEvent['type']; data: string; at: number }>(s.teamEvents.after, [after, limit]);
    return rows.map((r) => ({ id: r.id, type: r.type, at: iso(r.at), ...JSON.parse(r.data) }) as TeamEvent);
  }

  async lastTeamEventId(): Promise<number> {
    return (await this.one<{ id: number }>(s.teamEvents.lastId))!.id;
  }

  async webhookCursor(): Promise<number | null> {
    return (await this.one<{ delivered_through: number }>(s.teamEvents.webhookCursor))?.delivered_through ?? null;
  }

  async takeWebhookLease(node: string, ms: number): Promise<boolean> {
    return (await this.q(s.teamEvents.takeWebhookLease, [node, ms])).length > 0;
  }

  async releaseWebhookLease(node: string): Promise<void> {
    await this.q(s.teamEvents.releaseWebhookLease, [node]);
  }

  async setWebhookCursor(id: number, node: string): Promise<boolean> {
    return (await this.q(s.teamEvents.moveWebhookCursor, [id, node])).length > 0;
  }

  async recordPersonEvent(e: { personId: number; name: string; source: 'api' | 'widget'; at: number }): Promise<{ goalsCompleted: number }> {
    return this.transaction(async (run) => {
      await run(s.personEvents.insert, [e.personId, e.name, e.source, e.at]);
      const { rowCount } = await run(s.recipients.reachGoal, [e.at, e.personId, e.name]);
      return { goalsCompleted: rowCount ?? 0 };
    });
  }

  // ---- replies by email

  async markConversationSeen(conversationId: number, through: number): Promise<void> {
    await this.transaction(async (run) => {
      await run(s.conversations.seen, [conversationId, through]);
      await run(s.conversations.findUnseenReply, [conversationId]);
    });
  }

  async setContactEmail(visitorId: number, email: string): Promise<void> {
    await this.transaction(async (run) => {
      await run(s.visitors.setContactEmail, [email.trim(), visitorId]);
      await run(s.conversations.findUnseenRepliesOfVisitor, [visitorId]);
    });
  }

  async repliesByEmail(conversationId: number) {
    const state = await this.one<ReplyStateRow>(s.conversations.replyState, [conversationId]);
    if (!state) return null;
    const emails = await this.q<ReplyEmailRow>(s.replyEmails.ofConversation, [conversationId]);
    return { contactEmail: state.contact_email, seenThrough: state.seen_through, replyEmails: emails.map(toReplyEmail) };
  }

  async claimReplyEmails(clock: ReplyEmailClock, limit: number): Promise<ReplyEmailClaim[]> {
    return this.transaction(async (run) => {
      const rows = (await run(s.replyEmails.reclaim, [clock.now, clock.abandonedBefore, clock.maxAttempts, clock.retryBefore, limit])).rows as ReplyEmailRow[];
      // Locked until the commit (another node's claim skips them); each batch is read after the
      // lock, so a reply committed meanwhile is either in it or waits for the next one.
      const due = (await run(s.conversations.repliesDue, [clock.dueBy, limit])).rows as { id: number }[];
      for (const { id } of due) {
        const batch = (await run(s.conversations.replyBatch, [id])).rows[0] as ReplyBatchRow;
        if (!mailsBatch(batch, clock.oldestBy)) {
          await run(s.conversations.repliesPassed, [id]);
          continue;
        }
        rows.push((await run(s.replyEmails.insert, [id, batch.after, batch.through, clock.now, clock.now])).rows[0] as ReplyEmailRow);
        await run(s.conversations.repliesTaken, [batch.through, id]);
      }
      return rows.map(toReplyEmailClaim);
    });
  }

  async replyEmailContent(claim: ReplyEmailClaim) {
    const state = await this.one<ReplyStateRow>(s.conversations.replyState, [claim.conversationId]);
    if (!state) return { address: null, pageUrl: null, replies: [] };
    const after = Math.max(claim.after, state.seen_through);
    const replies = await this.q<ConversationMessageRow>(s.conversationMessages.teamRepliesBetween, [claim.conversationId, after, claim.through]);
    return { address: state.address, pageUrl: state.page_url, replies: replies.map(toConversationMessage) };
  }

  async recordReplyEmail(id: number, outcome: ReplyEmailOutcome): Promise<void> {
    await this.q(s.replyEmails.finish, [outcome.status, outcome.status === 'sent' ? outcome.at : null, outcome.status === 'failed' ? outcome.error.slice(0, 500) : null, id]);
  }

  async replyEmailTarget(id: number) {
    const r = await this.one<{ conversation_id: number; page_url: string | null; sent_at: number | null }>(s.replyEmails.target, [id]);
    return r ? { conversationId: r.conversation_id, pageUrl: r.page_url, sentAt: r.sent_at } : null;
  }

  async replyEmailFollowed(id: number, at: number): Promise<void> {
    await this.q(s.replyEmails.followed, [at, id]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A start under way finishes first (its connection is the pool's).
    await this.migrated?.catch(() => {});
    await this.pool.end();
  }
}
