import Database from 'better-sqlite3';
import type { Channel, LinkPlacement, Settings } from '../../api/types.ts';
import { migrations } from './migrations.ts';
import {
  DEFAULT_SETTINGS,
  type MessageRecord,
  type NewMessage,
  type NewRecipient,
  type RecipientRecord,
  type Store,
} from './store.ts';

export function openDatabase(path: string, upTo = migrations.length): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL'); // with WAL: durable at each checkpoint, no fsync per commit
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, upTo);
  return db;
}

function migrate(db: Database.Database, upTo: number): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(`database schema v${current} is newer than this release knows (v${migrations.length})`);
  }
  for (let v = current; v < upTo; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

interface MessageRow {
  id: number;
  subject: string;
  html: string;
  text: string | null;
  channel: Channel;
  goal_event: string | null;
  goal_within_days: number | null;
  compiled: string;
  created_at: number;
}

interface LinkRow {
  id: number;
  message_id: number;
  position: number;
  part: 'html' | 'text';
  url: string;
  text: string;
  tracked: number;
  reason: LinkPlacement['reason'] | null;
  honeypot: number;
}

export interface RecipientRow {
  id: number;
  message_id: number;
  person_id: number;
  email: string;
  name: string | null;
  attributes: string;
  status: RecipientRecord['status'];
  sent_at: number | null;
  error: string | null;
}

function toLink(row: LinkRow): LinkPlacement {
  const link: LinkPlacement = {
    id: row.id,
    url: row.url,
    position: row.position,
    text: row.text,
    tracked: row.tracked === 1,
    part: row.part,
  };
  if (row.reason) link.reason = row.reason;
  return link;
}

export function toRecipient(row: RecipientRow): RecipientRecord {
  return {
    id: row.id,
    messageId: row.message_id,
    personId: row.person_id,
    email: row.email,
    name: row.name,
    attributes: JSON.parse(row.attributes),
    status: row.status,
    sentAt: row.sent_at,
    error: row.error,
  };
}

export class SqliteStore implements Store {
  readonly db: Database.Database;

  constructor(path: string) {
    this.db = openDatabase(path);
    // A send cut short by a crash left its claims behind: give them back.
    try {
      this.db.prepare(`UPDATE recipients SET status = 'pending' WHERE status = 'sending'`).run();
    } catch (err) {
      // A read-only file can still serve the redirects (the clicks wait in their journal):
      // starting matters more than the claims, which the next start that can write gives back.
      if (!(err instanceof Database.SqliteError && err.code.startsWith('SQLITE_READONLY'))) throw err;
      console.error(`[clicktrail] the database is read-only (${err.message}): redirects go on, clicks wait in the journal, other writes fail`);
    }
  }

  private readonly q = (sql: string) => this.db.prepare(sql);

  // Read on every click: kept in memory, and only this store changes it.
  private settings: Settings | null = null;

  async getSettings(): Promise<Settings> {
    if (!this.settings) {
      const row = this.q('SELECT data FROM settings WHERE id = 1').get() as { data: string } | undefined;
      this.settings = { ...DEFAULT_SETTINGS, ...(row ? JSON.parse(row.data) : {}) };
    }
    return this.settings!;
  }

  async updateSettings(patch: Partial<Settings>): Promise<Settings> {
    const next = { ...(await this.getSettings()), ...patch };
    this.q('INSERT INTO settings (id, data) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data').run(
      JSON.stringify(next),
    );
    this.settings = next;
    return next;
  }

  async createMessage(m: NewMessage): Promise<MessageRecord> {
    const now = Date.now();
    const id = this.db.transaction(() => {
      const { lastInsertRowid } = this.q(
        `INSERT INTO messages (subject, html, text, channel, goal_event, goal_within_days, compiled, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(m.subject, m.html, m.text, m.channel, m.goal?.event ?? null, m.goal?.withinDays ?? null, JSON.stringify(m.compiled), now);
      const insertLink = this.q(
        'INSERT INTO links (message_id, position, part, url, text, tracked, reason) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      for (const l of m.compiled.links) {
        insertLink.run(lastInsertRowid, l.position, l.part, l.url, l.text, l.tracked ? 1 : 0, l.reason ?? null);
      }
      // Only a message with tracked links gets a honeypot: with tracking off, nothing is tracked at all.
      if (m.channel === 'email' && m.compiled.links.some((l) => l.tracked)) {
        this.q(
          `INSERT INTO links (message_id, position, part, url, text, tracked, honeypot) VALUES (?, -1, 'html', '', '', 1, 1)`,
        ).run(lastInsertRowid);
      }
      return Number(lastInsertRowid);
    })();
    return (await this.getMessage(id))!;
  }

  private toMessage(row: MessageRow): MessageRecord {
    const rows = this.q('SELECT * FROM links WHERE message_id = ? ORDER BY position').all(row.id) as LinkRow[];
    const links = rows.filter((l) => l.honeypot === 0).map(toLink);
    return {
      id: row.id,
      subject: row.subject,
      html: row.html,
      text: row.text,
      channel: row.channel,
      goal: row.goal_event ? { event: row.goal_event, withinDays: row.goal_within_days! } : null,
      compiled: JSON.parse(row.compiled),
      createdAt: row.created_at,
      links,
      honeypotLinkId: rows.find((l) => l.honeypot === 1)?.id ?? null,
    };
  }

  async getMessage(id: number): Promise<MessageRecord | null> {
    const row = this.q('SELECT * FROM messages WHERE id = ?').get(id) as MessageRow | undefined;
    return row ? this.toMessage(row) : null;
  }

  async listMessages(limit: number): Promise<MessageRecord[]> {
    const rows = this.q('SELECT * FROM messages ORDER BY created_at DESC, id DESC LIMIT ?').all(limit) as MessageRow[];
    return rows.map((r) => this.toMessage(r));
  }

  async addRecipients(messageId: number, recipients: NewRecipient[]): Promise<{ added: number; updated: number }> {
    const now = Date.now();
    const upsertPerson = this.q(
      `INSERT INTO people (email, name, created_at) VALUES (?, ?, ?)
       ON CONFLICT (email) DO UPDATE SET name = coalesce(excluded.name, people.name)
       RETURNING id`,
    );
    const existing = this.q('SELECT id FROM recipients WHERE message_id = ? AND person_id = ?');
    const insert = this.q(
      'INSERT INTO recipients (message_id, person_id, email, name, attributes, added_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const update = this.q('UPDATE recipients SET name = ?, attributes = ? WHERE id = ?');
    return this.db.transaction(() => {
      let added = 0;
      let updated = 0;
      for (const r of recipients) {
        const email = r.email.trim();
        const name = r.name ?? null;
        const attributes = JSON.stringify(r.attributes ?? {});
        const { id: personId } = upsertPerson.get(email, name, now) as { id: number };
        const row = existing.get(messageId, personId) as { id: number } | undefined;
        if (row) {
          update.run(name, attributes, row.id);
          updated++;
        } else {
          insert.run(messageId, personId, email, name, attributes, now);
          added++;
        }
      }
      return { added, updated };
    })();
  }

  async getRecipient(id: number): Promise<RecipientRecord | null> {
    const row = this.q('SELECT * FROM recipients WHERE id = ?').get(id) as RecipientRow | undefined;
    return row ? toRecipient(row) : null;
  }

  async findRecipient(messageId: number, email: string): Promise<RecipientRecord | null> {
    const row = this.q(
      `SELECT r.* FROM recipients r JOIN people p ON p.id = r.person_id WHERE r.message_id = ? AND p.email = ?`,
    ).get(messageId, email.trim()) as RecipientRow | undefined;
    return row ? toRecipient(row) : null;
  }

  async countRecipients(messageId: number): Promise<{ recipients: number; sent: number }> {
    return this.q(
      `SELECT count(*) AS recipients, count(*) FILTER (WHERE status = 'sent') AS sent FROM recipients WHERE message_id = ?`,
    ).get(messageId) as { recipients: number; sent: number };
  }

  async claimUnsent(messageId: number): Promise<RecipientRecord[]> {
    const rows = this.q(
      `UPDATE recipients SET status = 'sending', attempts = attempts + 1
       WHERE message_id = ? AND status IN ('pending', 'failed') RETURNING *`,
    ).all(messageId) as RecipientRow[];
    return rows.map(toRecipient).sort((a, b) => a.id - b.id);
  }

  async recordDelivery(recipientId: number, outcome: { ok: true; at: number } | { ok: false; error: string }): Promise<void> {
    if (outcome.ok) {
      this.q(`UPDATE recipients SET status = 'sent', sent_at = ?, error = NULL WHERE id = ?`).run(outcome.at, recipientId);
    } else {
      this.q(`UPDATE recipients SET status = 'failed', error = ? WHERE id = ?`).run(outcome.error.slice(0, 500), recipientId);
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
