import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { migrate, migrations } from '../../server/store/postgres/migrations.ts';
import { PgStore } from '../../server/store/postgres/store.ts';
import { openDatabase } from '../../server/store/sqlite/database.ts';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import { clickedBeforeTheUpgrade, expectClicksCountedAcrossTheUpgrade } from '../support/counted-clicks.ts';
import { emptyDatabase, setAvailable, testCluster } from '../support/postgres.ts';
import { removeDir, tempDir } from '../support/server.ts';

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function store(url: string): PgStore {
  const s = new PgStore(url);
  closers.push(() => s.close());
  return s;
}

async function query<R>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as R[];
  } finally {
    await client.end();
  }
}

describe('PostgreSQL schema migrations', () => {
  it('migrate an empty database once when eight servers start on it at the same moment', async () => {
    const url = emptyDatabase(testCluster());
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    closers.push(() => errors.mockRestore());
    const servers = Array.from({ length: 8 }, () => store(url));
    // Each waits for the schema before its first call: all of them answer.
    const settings = await Promise.all(servers.map((s) => s.getSettings()));
    expect(new Set(settings.map((s) => s.identitySecret)).size).toBe(1);
    expect(errors).not.toHaveBeenCalled();
    expect(await query(url, 'SELECT id, version FROM schema_version')).toEqual([{ id: 1, version: migrations.length }]);
    expect(await query(url, `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`)).toEqual([{ n: 0 }]);
    // And a server started later finds it current.
    expect((await store(url).getSettings()).identitySecret).toBe(settings[0]!.identitySecret);
  });

  it('make the tables and columns SQLite has, with the same NOT NULLs', async () => {
    const dir = tempDir();
    closers.push(() => removeDir(dir));
    const lite = new SqliteStore(join(dir, 'ct.db'));
    await lite.close();
    const db = new Database(join(dir, 'ct.db'), { readonly: true });
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[]).map((t) => t.name);
    const liteColumns = tables.flatMap((t) =>
      (db.pragma(`table_info(${t})`) as { name: string; type: string; notnull: number; pk: number }[]).map((c) => ({
        column: `${t}.${c.name}`,
        kind: { INTEGER: 'number', TEXT: 'text', BLOB: 'bytes' }[c.type],
        // A column of the primary key is NOT NULL in PostgreSQL whatever it says.
        required: c.notnull === 1 || c.pk > 0,
      })),
    );
    db.close();

    const url = emptyDatabase(testCluster());
    await store(url).getSettings();
    const pgColumns = (
      await query<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
        url,
        `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> 'schema_version'`,
      )
    ).map((c) => ({
      column: `${c.table_name}.${c.column_name}`,
      kind: { bigint: 'number', integer: 'number', text: 'text', bytea: 'bytes' }[c.data_type],
      required: c.is_nullable === 'NO',
    }));
    const sorted = (cs: { column: string }[]) => [...cs].sort((a, b) => a.column.localeCompare(b.column));
    expect(sorted(pgColumns)).toEqual(sorted(liteColumns));
  });

  it('give the messages of version 1 the time their first send started, as SQLite does', async () => {
    const url = emptyDatabase(testCluster());
    const pool = new pg.Pool({ connectionString: url });
    try {
      await migrate(pool, 1);
      await pool.query(`
        INSERT INTO messages (id, subject, html, channel, compiled, created_at) VALUES
          (1, 'Sent', 'x', 'email', '{"links":[],"html":["x"],"text":null}', 100),
          (2, 'Only failed', 'x', 'email', '{"links":[],"html":["x"],"text":null}', 100),
          (3, 'Never sent', 'x', 'email', '{"links":[],"html":["x"],"text":null}', 100);
        INSERT INTO people (id, email, created_at) VALUES (1, 'a@shop.test', 1), (2, 'b@shop.test', 1);
        INSERT INTO recipients (message_id, person_id, email, added_at, status, sent_at) VALUES
          (1, 1, 'a@shop.test', 110, 'sent', 150), (1, 2, 'b@shop.test', 120, 'sent', 130),
          (2, 1, 'a@shop.test', 110, 'failed', NULL), (2, 2, 'b@shop.test', 140, 'failed', NULL),
          (3, 1, 'a@shop.test', 110, 'pending', NULL);`);
    } finally {
      await pool.end();
    }
    const s = store(url);
    expect(await Promise.all([1, 2, 3].map(async (id) => (await s.getMessage(id))!.sentAt))).toEqual([130, 140, null]);
    expect(await s.getMessage(3)).toMatchObject({ kind: 'marketing', from: null, replyTo: null });
  });

  it('count the conversations of version 2 as mailed up to their last message, as SQLite does: their replies are never mailed', async () => {
    const url = emptyDatabase(testCluster());
    const pool = new pg.Pool({ connectionString: url });
    const hourAgo = Date.now() - 3_600_000;
    try {
      // Version 2, before replies by email (the migration after it when written; another release's may come between).
      await migrate(pool, 2);
      await pool.query(`
        INSERT INTO people (id, email, name, created_at) VALUES (3, 'lead@shop.test', 'Lena Lead', ${hourAgo});
        INSERT INTO visitors (id, secret_hash, person_id, identified_by, created_at, seen_at) VALUES (1, '\\x00', 3, 'email-click', ${hourAgo}, ${hourAgo});
        INSERT INTO conversations (id, visitor_id, person_id, identified_by, started_at, last_message_at, last_message)
          VALUES (6, 1, 3, 'email-click', ${hourAgo}, ${hourAgo}, 'answered');
        INSERT INTO conversation_messages (conversation_id, author, body, at)
          VALUES (6, 'visitor', 'asked', ${hourAgo}), (6, 'team', 'answered', ${hourAgo});`);
    } finally {
      await pool.end();
    }
    const s = store(url);
    const now = Date.now();
    const clock = { now, dueBy: now, oldestBy: hourAgo - 60_000, abandonedBefore: 0, retryBefore: 0, maxAttempts: 5 };
    expect(await s.claimReplyEmails(clock, 50)).toEqual([]);
    const { message } = await s.addMessage(6, { author: 'team', body: 'and one more thing', clientId: null, at: now - 60_000 });
    const claims = await s.claimReplyEmails(clock, 50);
    expect(claims).toEqual([expect.objectContaining({ conversationId: 6, after: message.id - 1, through: message.id, attempt: 1 })]);
    expect((await s.replyEmailContent(claims[0]!)).replies.map((r) => r.body)).toEqual(['and one more thing']);
  });

  it("count a recipient's human clicks of version 4 from its pairs' counts, as SQLite does: who clicked before is no unique clicker again", async () => {
    const url = emptyDatabase(testCluster());
    const pool = new pg.Pool({ connectionString: url });
    try {
      await migrate(pool, 4);
      await pool.query(clickedBeforeTheUpgrade);
    } finally {
      await pool.end();
    }
    const s = store(url);
    await expectClicksCountedAcrossTheUpgrade(s);
    expect(await query(url, `SELECT column_name FROM information_schema.columns WHERE table_name = 'recipients' AND column_name LIKE 'human%'`)).toEqual([
      { column_name: 'human_opens' },
    ]);

    // SQLite's release before, upgraded: the same counts.
    const dir = tempDir();
    closers.push(() => removeDir(dir));
    const old = openDatabase(join(dir, 'ct.db'), 10);
    old.exec(clickedBeforeTheUpgrade);
    old.close();
    const lite = new SqliteStore(join(dir, 'ct.db'));
    closers.push(() => lite.close());
    await expectClicksCountedAcrossTheUpgrade(lite);
  });

  it('refuse a database from a newer release rather than guess at it', async () => {
    const url = emptyDatabase(testCluster());
    await store(url).getSettings();
    await query(url, `UPDATE schema_version SET version = ${migrations.length + 1}`);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    closers.push(() => errors.mockRestore());
    await expect(store(url).getSettings()).rejects.toThrow(/newer than this release/);
  });

  it('wait for a database that is down at start, and migrate it once it is back', async () => {
    const c = testCluster();
    const url = emptyDatabase(c);
    setAvailable(c, url, false);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    closers.push(() => errors.mockRestore());
    const s = store(url);
    await expect(s.lastTeamEventId()).rejects.toThrow(/not currently accepting connections/);
    setAvailable(c, url, true);
    expect(await s.lastTeamEventId()).toBe(0);
    expect(await query(url, 'SELECT version FROM schema_version')).toEqual([{ version: migrations.length }]);
  });
});
