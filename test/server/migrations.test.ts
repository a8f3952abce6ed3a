import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrations } from '../../server/store/sqlite/migrations.ts';
import { openDatabase } from '../../server/store/sqlite/database.ts';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import { clickedBeforeTheUpgrade, expectClicksCountedAcrossTheUpgrade } from '../support/counted-clicks.ts';
import { removeDir, tempDir } from '../support/server.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

describe('schema migrations', () => {
  it('opens a database made by the first release and upgrades it, keeping its data', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'old.db');
    const old = openDatabase(path, 1);
    old.exec(`
      INSERT INTO messages (id, subject, html, text, channel, compiled, created_at)
        VALUES (7, 'Old news', '<a href="https://x.test/">x</a>', NULL, 'email', '{"links":[],"html":["x"],"text":null}', 1);
      INSERT INTO links (id, message_id, position, part, url, text, tracked) VALUES (70, 7, 0, 'html', 'https://x.test/', 'x', 1);
      INSERT INTO people (id, email, name, created_at) VALUES (1, 'old@shop.test', 'Old Timer', 1);
      INSERT INTO recipients (id, message_id, person_id, email, name, added_at, status, sent_at) VALUES (5, 7, 1, 'old@shop.test', 'Old Timer', 1, 'sent', 2);
    `);
    expect(old.pragma('user_version', { simple: true })).toBe(1);
    old.close();

    const store = new SqliteStore(path);
    expect(store.db.pragma('user_version', { simple: true })).toBe(migrations.length);
    const message = await store.getMessage(7);
    expect(message).toMatchObject({ subject: 'Old news', links: [{ id: 70, url: 'https://x.test/', tracked: true }], honeypotLinkId: null });
    expect(await store.delivery(7)).toEqual({ recipients: 1, pending: 0, sent: 1, failed: 0, skipped: 0 });
    // A message its recipients were sent is a sent one (sent_at from their earliest send): no edit can change it.
    expect(message).toMatchObject({ kind: 'marketing', from: null, replyTo: null, sentAt: 2 });
    // The upgrade's new columns and tables are there, with their defaults.
    expect(store.db.prepare('SELECT human_opens, opened_at FROM recipients WHERE id = 5').get()).toEqual({ human_opens: 0, opened_at: null });
    expect(store.db.prepare('SELECT count(*) AS n FROM clicks').get()).toEqual({ n: 0 });
    await store.close();
  });

  it("counts a v10 recipient's human clicks from its pairs' counts: who clicked before is no unique clicker again", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'v10.db');
    const old = openDatabase(path, 10);
    old.exec(clickedBeforeTheUpgrade);
    old.close();
    const store = new SqliteStore(path);
    await expectClicksCountedAcrossTheUpgrade(store);
    expect((store.db.pragma('table_info(recipients)') as { name: string }[]).map((c) => c.name).filter((n) => n.startsWith('human'))).toEqual(['human_opens']);
    await store.close();
  });

  it('upgrades a v7 database for in-app messages: recipients keep their ids and counts, sent messages their send time', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'v7.db');
    const old = openDatabase(path, 7);
    old.exec(`
      INSERT INTO messages (id, subject, html, text, channel, compiled, created_at) VALUES
        (1, 'Sent', 'x', NULL, 'email', '{"links":[],"html":["x"],"text":null}', 1),
        (2, 'Draft', 'x', NULL, 'email', '{"links":[],"html":["x"],"text":null}', 1);
      INSERT INTO people (id, email, name, created_at) VALUES (1, 'a@shop.test', 'A', 1), (2, 'b@shop.test', 'B', 1);
      INSERT INTO recipients (id, message_id, person_id, email, added_at, status, sent_at, human_clicks, opened_at) VALUES
        (11, 1, 1, 'a@shop.test', 1, 'sent', 500, 3, 600),
        (12, 1, 2, 'b@shop.test', 1, 'sent', 400, 0, NULL),
        (13, 2, 1, 'a@shop.test', 1, 'pending', NULL, 0, NULL);
      INSERT INTO recipient_link_counts (recipient_id, link_id, message_id, human, first_at, last_at) VALUES (11, 1, 1, 3, 550, 590);
    `);
    old.close();

    const store = new SqliteStore(path);
    expect((await store.getMessage(1))!.sentAt).toBe(400);
    expect((await store.getMessage(2))!.sentAt).toBeNull();
    const humanClicks = '(SELECT coalesce(sum(human), 0) FROM recipient_link_counts WHERE recipient_id = recipients.id) AS human_clicks';
    expect(store.db.prepare(`SELECT id, person_id, ${humanClicks}, opened_at, visitor_id, dismissed_at FROM recipients ORDER BY id`).all()).toEqual([
      { id: 11, person_id: 1, human_clicks: 3, opened_at: 600, visitor_id: null, dismissed_at: null },
      { id: 12, person_id: 2, human_clicks: 0, opened_at: null, visitor_id: null, dismissed_at: null },
      { id: 13, person_id: 1, human_clicks: 0, opened_at: null, visitor_id: null, dismissed_at: null },
    ]);
    // Still one row per person and message.
    expect(() => store.db.prepare(`INSERT INTO recipients (message_id, person_id, email, added_at) VALUES (1, 1, 'a@shop.test', 2)`).run()).toThrow(/UNIQUE/);
    expect((store.db.pragma('index_list(recipients)') as { name: string }[]).map((i) => i.name)).toContain('recipients_by_status');
    await store.close();
  });


  it('gives the messages of a release before drafts the time their first send started, and keeps their link ids', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'v7.db');
    const old = openDatabase(path, 7);
    old.exec(`
      INSERT INTO messages (id, subject, html, channel, compiled, created_at) VALUES
        (1, 'Sent', 'x', 'email', '{"links":[],"html":["x"],"text":null}', 100),
        (2, 'Only failed', 'x', 'email', '{"links":[],"html":["x"],"text":null}', 100),
        (3, 'Never sent', 'x', 'email', '{"links":[],"html":["x"],"text":null}', 100);
      INSERT INTO links (id, message_id, position, part, url, text, tracked) VALUES (41, 3, 0, 'html', 'https://x.test/', 'x', 1);
      INSERT INTO people (id, email, created_at) VALUES (1, 'a@shop.test', 1), (2, 'b@shop.test', 1);
      INSERT INTO recipients (message_id, person_id, email, added_at, status, sent_at) VALUES
        (1, 1, 'a@shop.test', 110, 'sent', 150), (1, 2, 'b@shop.test', 120, 'sent', 130),
        (2, 1, 'a@shop.test', 110, 'failed', NULL), (2, 2, 'b@shop.test', 140, 'failed', NULL),
        (3, 1, 'a@shop.test', 110, 'pending', NULL);
    `);
    old.close();

    const store = new SqliteStore(path);
    expect([1, 2, 3].map((id) => store.db.prepare('SELECT sent_at FROM messages WHERE id = ?').pluck().get(id))).toEqual([130, 140, null]);
    const draft = (await store.getMessage(3))!;
    expect(draft).toMatchObject({ sentAt: null, kind: 'marketing', links: [{ id: 41, url: 'https://x.test/' }] });
    // The draft's placements made again: new ids, never the ones given out before.
    expect(await store.updateDraft(3, { ...draft, compiled: { links: [{ position: 0, url: 'https://y.test/', text: 'y', tracked: true, part: 'html' }], html: ['y'], text: null } })).toBe('done');
    expect((await store.getMessage(3))!.links.map((l) => l.id)).toEqual([42]);
    expect(await store.updateDraft(1, draft)).toBe('sent');
    await store.close();
  });

  it('refuses a database from a newer release rather than guess at it', () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'new.db');
    const db = openDatabase(path);
    db.pragma(`user_version = ${migrations.length + 1}`);
    db.close();
    expect(() => new SqliteStore(path)).toThrow(/newer than this release/);
  });

  it('hands the one journal position of a release before node ids to the first node that asks', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir, 'v6.db');
    const old = openDatabase(path, 6);
    old.prepare('INSERT INTO click_journal (id, segment, offset) VALUES (1, 3, 120)').run();
    old.close();
    const store = new SqliteStore(path);
    expect(await store.journalPosition('first-node')).toEqual({ segment: 3, offset: 120 });
    expect(await store.journalPosition('first-node')).toEqual({ segment: 3, offset: 120 });
    expect(await store.journalPosition('another-node')).toBeNull();
    await store.close();
  });
});
