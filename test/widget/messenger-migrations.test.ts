import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/store/sqlite/database.ts';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import { useTestServer, type TestServer } from '../support/server.ts';

let s: TestServer;
useTestServer((server) => {
  s = server;
});

// Upgrades of old SQLite files: SQLite's own migrations (PostgreSQL's: test/server/postgres-migrations.test.ts).
describe('migration 5', () => {
  it('upgrades a v4 database: people keep their ids and references, old verified sessions must identify again', async () => {
    const path = `${s.dir}/v4.db`;
    const v4 = openDatabase(path, 4);
    v4.exec(`
      INSERT INTO messages (id, subject, html, text, channel, compiled, created_at) VALUES (1, 'S', 'h', NULL, 'email', '{}', 1);
      INSERT INTO people (id, email, name, created_at) VALUES (3, 'lead@shop.test', 'Lena Lead', 1), (8, 'user@shop.test', 'Uma User', 1);
      INSERT INTO recipients (id, message_id, person_id, email, name, added_at) VALUES (4, 1, 3, 'lead@shop.test', 'Lena Lead', 1);
      INSERT INTO visitors (id, secret_hash, person_id, identified_by, created_at, seen_at) VALUES (1, x'00', 8, 'verified', 1, 1), (2, x'00', 3, 'email-click', 1, 1);
      INSERT INTO conversations (id, visitor_id, person_id, identified_by, started_at, last_message_at, last_message) VALUES (6, 1, 8, 'verified', 1, 1, 'hi');
      INSERT INTO person_events (person_id, name, source, at) VALUES (3, 'e', 'api', 1);
    `);
    v4.close();

    const db = openDatabase(path);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.prepare('SELECT id, email, user_id, user_email, name FROM people ORDER BY id').all()).toEqual([
      { id: 3, email: 'lead@shop.test', user_id: null, user_email: null, name: 'Lena Lead' },
      { id: 8, email: 'user@shop.test', user_id: null, user_email: null, name: 'Uma User' },
    ]);
    expect(db.prepare('SELECT id, person_id, identified_by FROM visitors ORDER BY id').all()).toEqual([
      { id: 1, person_id: null, identified_by: null },
      { id: 2, person_id: 3, identified_by: 'email-click' },
    ]);
    expect(db.prepare('SELECT person_id FROM conversations WHERE id = 6').pluck().get()).toBe(8);
    // The references still hold: a row naming nobody is refused.
    expect(() => db.prepare('INSERT INTO recipients (message_id, person_id, email, added_at) VALUES (1, 99, ?, 1)').run('x@shop.test')).toThrow(/FOREIGN KEY/);
    const store = new SqliteStore(path);
    expect(await store.upsertPerson('LEAD@shop.test', null)).toEqual({ id: 3, name: 'Lena Lead', email: 'lead@shop.test' });
    const a = await store.upsertVerifiedPerson('u-1', { email: 'lead@shop.test', name: null });
    const b = await store.upsertVerifiedPerson('u-2', { email: 'lead@shop.test', name: 'Bea' });
    expect(new Set([3, a.id, b.id]).size).toBe(3);
    await store.close();
    db.close();
  });
});

// Upgrades of old SQLite files: SQLite's own migrations (PostgreSQL's: test/server/postgres-migrations.test.ts).
describe('migration 3', () => {
  it('upgrades a v2 database: settings kept, identity and webhook secrets made once', async () => {
    const path = `${s.dir}/old.db`;
    const v2 = openDatabase(path, 2);
    v2.prepare(`INSERT INTO settings (id, data) VALUES (1, '{"clickTracking":false}')`).run();
    v2.close();
    const upgraded = new SqliteStore(path);
    const settings = await upgraded.getSettings();
    expect(settings).toMatchObject({ clickTracking: false, identitySecret: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(settings.webhookSecret).not.toBe(settings.identitySecret);
    await upgraded.close();
    const reopened = new SqliteStore(path);
    expect((await reopened.getSettings()).identitySecret).toBe(settings.identitySecret);
    await reopened.close();
  });
});

// The migration of replies by email (9 when written: another release's migration may come before it).
describe('migration 9', () => {
  it('upgrades a v8 database: no reply written before it is ever mailed, and the next one is, alone', async () => {
    const path = `${s.dir}/v8.db`;
    const v8 = openDatabase(path, 8);
    const hourAgo = Date.now() - 3_600_000;
    v8.exec(`
      INSERT INTO people (id, email, name, created_at) VALUES (3, 'lead@shop.test', 'Lena Lead', ${hourAgo});
      INSERT INTO visitors (id, secret_hash, person_id, identified_by, created_at, seen_at) VALUES (1, x'00', 3, 'email-click', ${hourAgo}, ${hourAgo});
      INSERT INTO conversations (id, visitor_id, person_id, identified_by, started_at, last_message_at, last_message)
        VALUES (6, 1, 3, 'email-click', ${hourAgo}, ${hourAgo}, 'answered');
      INSERT INTO conversation_messages (id, conversation_id, author, body, at)
        VALUES (10, 6, 'visitor', 'asked', ${hourAgo}), (11, 6, 'team', 'answered', ${hourAgo});
    `);
    v8.close();
    const store = new SqliteStore(path);
    const now = Date.now();
    const clock = { now, dueBy: now, oldestBy: hourAgo - 60_000, abandonedBefore: 0, retryBefore: 0, maxAttempts: 5 };
    expect(await store.claimReplyEmails(clock, 50)).toEqual([]);
    const { message } = await store.addMessage(6, { author: 'team', body: 'and one more thing', clientId: null, at: now - 60_000 });
    const claims = await store.claimReplyEmails(clock, 50);
    expect(claims).toEqual([expect.objectContaining({ conversationId: 6, after: 11, through: message.id, attempt: 1 })]);
    expect((await store.replyEmailContent(claims[0]!)).replies.map((r) => r.body)).toEqual(['and one more thing']);
    await store.close();
  });
});
