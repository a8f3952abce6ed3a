import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PgStore } from '../../server/store/postgres/store.ts';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import { HitRefused, JournalMoved, type JournalMove, type Refusal, type Store, type TrackingWrite } from '../../server/store/store.ts';
import { testCluster, testDatabaseFor } from '../support/postgres.ts';
import { removeDir, tempDir } from '../support/server.ts';
import { sql } from '../support/sql.ts';
import { messageWithLinks } from '../support/store-message.ts';

// The PostgreSQL store against the SQLite one: the same writes into both, the same rows and
// the same reads out of both. SQLite's semantics (one write at a time, test/server/stats,
// scanners, recent-hits) are the definition; PostgreSQL's bulk ingest must land on them.

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  dirs.splice(0).forEach(removeDir);
});

/** A SQLite store and a PostgreSQL store, both fresh. */
function pair(): { lite: SqliteStore; pg: PgStore } {
  const dir = tempDir();
  dirs.push(dir);
  const path = join(dir, 'ct.db');
  const lite = new SqliteStore(path);
  const pg = new PgStore(testDatabaseFor(path, testCluster()));
  stores.push(lite, pg);
  return { lite, pg };
}

/** A message with four tracked links (and its honeypot) and five recipients, made the same way in each store. */
async function seedStore(store: Store) {
  const m = await messageWithLinks(store, [0, 1, 2, 3].map((i) => `https://x.test/${i}`));
  await store.addRecipients(m.id, ['a', 'b', 'c', 'd', 'e'].map((p) => ({ email: `${p}@shop.test` })));
  const recipients = await Promise.all(['a', 'b', 'c', 'd', 'e'].map(async (p) => (await store.findRecipient(m.id, `${p}@shop.test`))!.id));
  return { messageId: m.id, links: m.links.map((l) => l.id), honeypot: m.honeypotLinkId!, recipients };
}

/** A small deterministic random source (mulberry32). */
function random(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A journal of hits as the redirect writes them: people, scanners, opens, take-backs, and now and then a recipient the database does not have. */
function journal(seed: number, n: number, ids: Awaited<ReturnType<typeof seedStore>>, missing: boolean): TrackingWrite[] {
  const r = random(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  let at = 1_700_000_000_000;
  const writes: TrackingWrite[] = [];
  for (let i = 0; i < n; i++) {
    // Mostly seconds apart, sometimes the same millisecond, sometimes an hour later.
    at += pick([0, 1, 200, 1_500, 20_000, 61_000, 3_600_000]);
    const recipientId = missing && r() < 0.04 ? 999 : pick(ids.recipients);
    const kind = r();
    const base = { recipientId, messageId: ids.messageId, at, ip: r() < 0.5 ? '192.0.2.0/24' : null, userAgent: `ua ${i}` };
    if (kind < 0.7) {
      const botReason = r() < 0.6 ? null : pick(['bot-ua', 'head', 'burst', 'repeat', 'too-soon'] as const);
      writes.push({
        kind: 'click',
        linkId: r() < 0.08 ? ids.honeypot : pick(ids.links),
        ...base,
        botReason: botReason as never,
        ...(botReason === null && r() < 0.2 ? { suspectReason: pick(['no-language', 'datacenter'] as const) as never } : {}),
      });
    } else if (kind < 0.9) {
      writes.push({ kind: 'open', ...base, botReason: r() < 0.7 ? null : ('apple-mpp' as never) });
    } else {
      writes.push({ kind: 'reclassify', recipientId, from: at - pick([0, 30_000, 120_000]), to: at + pick([0, 60_000]), reason: pick(['burst', 'honeypot'] as const) as never });
    }
  }
  return writes;
}

/** Commits the journal in batches of random sizes as the ingester does (commit, then commitEach when refused); returns what was set aside. */
async function ingest(store: Store, writes: TrackingWrite[], seed: number): Promise<Refusal[]> {
  const r = random(seed);
  const aside: Refusal[] = [];
  let from: JournalMove['from'] = null;
  for (let i = 0; i < writes.length; ) {
    const size = 1 + Math.floor(r() * 60);
    const batch = writes.slice(i, i + size);
    const to = { segment: 1, offset: i + batch.length };
    const move = { node: 'n', from, to };
    try {
      await store.commit(batch, move);
    } catch (err) {
      if (!(err instanceof HitRefused)) throw err;
      await store.commitEach(batch, move, (refused) => aside.push(...refused.map((x) => ({ ...x, index: x.index + i }))));
    }
    from = to;
    i += batch.length;
  }
  return aside;
}

/** Every row the click ingest writes, in a form both stores give alike. */
async function rows(store: Store) {
  return {
    clicks: await sql(store, 'SELECT link_id, recipient_id, message_id, at, bot_reason, suspect_reason, ip, user_agent FROM clicks ORDER BY id'),
    opens: await sql(store, 'SELECT recipient_id, message_id, at, bot_reason, ip, user_agent FROM opens ORDER BY id'),
    pairs: await sql(store, 'SELECT recipient_id, link_id, message_id, human, bot, suspect, first_at, last_at FROM recipient_link_counts ORDER BY recipient_id, link_id'),
    links: await sql(store, 'SELECT link_id, total, uniq, bot, suspect FROM link_counts ORDER BY link_id'),
    messages: await sql(store, 'SELECT * FROM message_counts ORDER BY message_id'),
    hours: await sql(store, 'SELECT message_id, hour, human, bot FROM click_hours ORDER BY message_id, hour'),
    reasons: await sql(store, 'SELECT recipient_id, link_id, message_id, verdict, reason, n FROM click_reasons ORDER BY recipient_id, link_id, verdict, reason'),
    // A recipient's human clicks are its pairs' (recipientsSql.humanClicks).
    recipients: await sql(
      store,
      'SELECT id, (SELECT coalesce(sum(human), 0) FROM recipient_link_counts WHERE recipient_id = r.id) AS human_clicks, human_opens, opened_at FROM recipients r ORDER BY id',
    ),
    journal: await sql(store, 'SELECT node, segment, "offset" FROM click_journals ORDER BY node'),
  };
}

describe('the PostgreSQL store, write for write as the SQLite one', () => {
  for (const seed of [1, 2, 3, 4]) {
    // Seeds 3 and 4 with another node in the database: the clicks are judged again on every node's hits.
    const nodes = seed > 2 ? 'two nodes' : 'one node';
    it(`folds a journal of 600 hits (seed ${seed}, ${nodes}) into the same rows, counters and stats`, async () => {
      const { lite, pg } = pair();
      const ids = await seedStore(lite);
      expect(await seedStore(pg)).toEqual(ids);
      if (seed > 2) for (const store of [lite, pg]) await sql(store, `INSERT INTO click_journals (node, segment, "offset") VALUES ('other', 1, 0)`);
      const writes = journal(seed, 600, ids, seed % 2 === 0);
      const [liteAside, pgAside] = [await ingest(lite, writes, seed), await ingest(pg, writes, seed)];
      expect(pgAside.map((a) => a.index)).toEqual(liteAside.map((a) => a.index));
      expect(pgAside.map((a) => a.error)).toEqual(liteAside.map((a) => a.error));
      if (seed % 2 === 0) expect(liteAside.length).toBeGreaterThan(0);
      const [a, b] = [await rows(lite), await rows(pg)];
      expect(b.clicks.length).toBeGreaterThan(300);
      // The shared verdicts and take-backs happened: there is something to get right.
      expect(b.reasons.length).toBeGreaterThan(5);
      for (const key of Object.keys(a) as (keyof typeof a)[]) expect(b[key], key).toEqual(a[key]);
      expect(await pg.messageStats(ids.messageId)).toEqual(await lite.messageStats(ids.messageId));
      expect(await pg.people(ids.messageId)).toEqual(await lite.people(ids.messageId));
      expect(await pg.headlines([ids.messageId, 99])).toEqual(await lite.headlines([ids.messageId, 99]));
    });
  }

  it('refuses a hit with a value no column takes, and keeps the rest of its batch', async () => {
    const { lite, pg } = pair();
    const ids = await seedStore(lite);
    await seedStore(pg);
    const click = (at: number): TrackingWrite => ({ kind: 'click', linkId: ids.links[0]!, recipientId: ids.recipients[0]!, messageId: ids.messageId, at, botReason: null, ip: null, userAgent: 'ua' });
    const batch = [click(1), { ...click(2), at: null as unknown as number }, { ...click(3), recipientId: 999 }, click(4)];
    for (const store of [lite, pg]) {
      const move = { node: 'n', from: null, to: { segment: 1, offset: 4 } };
      await expect(store.commit(batch, move)).rejects.toThrow(HitRefused);
      const refused: Refusal[] = [];
      expect(await store.commitEach(batch, move, (r) => refused.push(...r))).toBe(2);
      expect(refused.map((r) => r.index)).toEqual([1, 2]);
      expect(refused[1]!.error).toBe('no recipient 999');
    }
    expect(await rows(pg)).toEqual(await rows(lite));
  });
  it('writes text as the journal has it, whatever COPY would take for its own (tabs, line ends, backslashes, \\N)', async () => {
    const { lite, pg } = pair();
    const ids = await seedStore(lite);
    await seedStore(pg);
    const odd = ['tab\there', 'two\nlines', 'cr\rhere', 'back\\slash', '\\N', '\\.', 'naïve ☃', ''];
    const batch: TrackingWrite[] = odd.flatMap((text, i): TrackingWrite[] => [
      { kind: 'click', linkId: ids.links[i % 4]!, recipientId: ids.recipients[i % 5]!, messageId: ids.messageId, at: 1_000 + i, botReason: null, ip: text, userAgent: text },
      { kind: 'open', recipientId: ids.recipients[i % 5]!, messageId: ids.messageId, at: 2_000 + i, botReason: null, ip: text, userAgent: text },
    ]);
    for (const store of [lite, pg]) await store.commit(batch, { node: 'n', from: null, to: { segment: 1, offset: 1 } });
    expect((await sql<{ user_agent: string }>(pg, 'SELECT user_agent FROM clicks ORDER BY id')).map((r) => r.user_agent)).toEqual(odd);
    expect(await rows(pg)).toEqual(await rows(lite));
  });

  it('takes an id a journal line spells as digits for the number it is, as SQLite does', async () => {
    const { lite, pg } = pair();
    const ids = await seedStore(lite);
    await seedStore(pg);
    const [link] = ids.links;
    const [first, second] = ids.recipients;
    const click = (recipientId: unknown, linkId: unknown, at: number): TrackingWrite =>
      ({ kind: 'click', linkId, recipientId, messageId: ids.messageId, at, botReason: null, ip: null, userAgent: 'ua' }) as TrackingWrite;
    // One pair each, however it is spelled: its first human click counted once.
    const batch = [click(first, link, 1), click(String(first), link, 2), click(first, String(link), 3), click(String(second), String(link), 4), click(second, link, 5)];
    for (const store of [lite, pg]) await store.commit(batch, { node: 'n', from: null, to: { segment: 1, offset: 1 } });
    expect(await rows(pg)).toEqual(await rows(lite));
    expect((await pg.messageStats(ids.messageId)).clicks).toEqual({ total: 5, unique: 2, bot: 0, suspect: 0 });
  });
});

describe('two nodes writing the same people on PostgreSQL', () => {
  it("count a person's first click once when two nodes commit their first clicks on two links at the same moment", async () => {
    const { pg } = pair();
    const other = new PgStore(pg.url);
    stores.push(other);
    const m = await messageWithLinks(pg, ['https://x.test/0', 'https://x.test/1']);
    await pg.addRecipients(m.id, Array.from({ length: 300 }, (_, i) => ({ email: `p${i}@shop.test` })));
    const people = await sql<{ id: number }>(pg, 'SELECT id FROM recipients ORDER BY id');
    const firstClicks = (linkId: number): TrackingWrite[] =>
      people.map(({ id }) => ({ kind: 'click', linkId, recipientId: id, messageId: m.id, at: 1_000, botReason: null, ip: null, userAgent: 'ua' }));
    // Each node's batch names every person: one waits for the other's locks, then sees its clicks.
    await Promise.all([
      pg.commit(firstClicks(m.links[0]!.id), { node: 'a', from: null, to: { segment: 1, offset: 1 } }),
      other.commit(firstClicks(m.links[1]!.id), { node: 'b', from: null, to: { segment: 1, offset: 1 } }),
    ]);
    const stats = await pg.messageStats(m.id);
    expect(stats.clicks).toEqual({ total: 600, unique: 300, bot: 0, suspect: 0 });
    expect(stats.links.map((l) => l.clicks.unique)).toEqual([300, 300]);
  });
});

describe('journal positions on PostgreSQL', () => {
  it('moves only from where the writer thought it was, one node at a time', async () => {
    const { pg } = pair();
    expect(await pg.journalPosition('a')).toBeNull();
    await pg.commit([], { node: 'a', from: null, to: { segment: 1, offset: 10 } });
    // Another writer of node a also thought it was first.
    await expect(pg.commit([], { node: 'a', from: null, to: { segment: 1, offset: 20 } })).rejects.toThrow(JournalMoved);
    await expect(pg.commit([], { node: 'a', from: { segment: 1, offset: 5 }, to: { segment: 1, offset: 20 } })).rejects.toThrow(/was at \{"segment":1,"offset":10\}/);
    await pg.commit([], { node: 'a', from: { segment: 1, offset: 10 }, to: { segment: 2, offset: 0 } });
    // Node b's position is its own.
    await pg.commit([], { node: 'b', from: null, to: { segment: 7, offset: 1 } });
    expect(await pg.journalPosition('a')).toEqual({ segment: 2, offset: 0 });
    expect(await pg.journalPosition('b')).toEqual({ segment: 7, offset: 1 });
  });

  it('lets two writers racing from one position move it once', async () => {
    const { pg } = pair();
    const other = new PgStore(pg.url);
    stores.push(other);
    await pg.commit([], { node: 'a', from: null, to: { segment: 1, offset: 0 } });
    const move = { node: 'a', from: { segment: 1, offset: 0 }, to: { segment: 1, offset: 50 } };
    const results = await Promise.allSettled([pg.commit([], move), other.commit([], move), pg.commit([], move)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason)).toEqual([expect.any(JournalMoved), expect.any(JournalMoved)]);
  });

  it('hands the one position of a release before node ids to the first node that asks', async () => {
    const { pg } = pair();
    await sql(pg, `INSERT INTO click_journals (node, segment, "offset") VALUES ('', 3, 120)`);
    const [first, second] = await Promise.all([pg.journalPosition('first-node'), pg.journalPosition('another-node')]);
    // Whichever asked first got it; the other has none.
    expect([first, second].filter(Boolean)).toEqual([{ segment: 3, offset: 120 }]);
    const winner = first ? 'first-node' : 'another-node';
    expect(await pg.journalPosition(winner)).toEqual({ segment: 3, offset: 120 });
    expect(await sql(pg, `SELECT node FROM click_journals`)).toEqual([{ node: winner }]);
  });
});

describe('the rest of the store on PostgreSQL', () => {
  it('adds recipients as SQLite does: emails case-blind in ASCII, someone twice in one list updated, others in bulk', async () => {
    const { lite, pg } = pair();
    for (const store of [lite, pg]) {
      const m = await store.createMessage({ subject: 's', html: 'x', text: null, channel: 'email', goal: null, audience: null, push: null, compiled: { links: [], html: ['x'], text: null } as never });
      expect(await store.addRecipients(m.id, [{ email: ' Ann@Shop.test ', name: 'Ann' }, { email: 'bob@shop.test', attributes: { plan: 'pro' } }])).toEqual({ added: 2, updated: 0 });
      expect(await store.addRecipients(m.id, [{ email: 'ann@shop.TEST' }, { email: 'cy@shop.test', name: 'Cy' }, { email: 'CY@shop.test', name: 'Cyril' }, { email: 'Élodie@shop.test' }, { email: 'élodie@shop.test' }])).toEqual({
        added: 3,
        updated: 2,
      });
      expect(await store.addRecipients(m.id, [])).toEqual({ added: 0, updated: 0 });
      expect(await store.delivery(m.id)).toEqual({ recipients: 5, pending: 5, sent: 0, failed: 0, skipped: 0 });
    }
    const list = (s: Store) =>
      sql(s, 'SELECT r.id, r.email, r.name, r.attributes, r.status, r.attempts, p.email AS person, p.name AS person_name FROM recipients r JOIN people p ON p.id = r.person_id ORDER BY r.id');
    expect(await list(pg)).toEqual(await list(lite));
    // (A person's id may differ: PostgreSQL's upsert takes an id from the sequence whether it inserts or updates.)
    const { personId: _p, ...cy } = (await pg.findRecipient(1, 'CY@SHOP.TEST'))!;
    const { personId: _l, ...liteCy } = (await lite.findRecipient(1, 'CY@SHOP.TEST'))!;
    expect(cy).toEqual(liteCy);
    const { id: _i, ...ann } = await pg.upsertPerson('ANN@shop.test', null);
    const { id: _j, ...liteAnn } = await lite.upsertPerson('ANN@shop.test', null);
    expect(ann).toEqual(liteAnn);
  });

  it('merges a settings change into what another node stored meanwhile', async () => {
    const { pg } = pair();
    const other = new PgStore(pg.url);
    stores.push(other);
    const before = await pg.getSettings();
    expect(before.identitySecret).toMatch(/^[0-9a-f]{64}$/);
    expect(before.webhookSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(before.webhookSecret).not.toBe(before.identitySecret);
    await other.updateSettings({ messengerIntro: 'from the other node' });
    const after = await pg.updateSettings({ scannerWindowSeconds: 3 });
    expect(after).toMatchObject({ messengerIntro: 'from the other node', scannerWindowSeconds: 3, identitySecret: before.identitySecret });
  });

  it('keeps one conversation for one clientId however many nodes start it at once', async () => {
    const { pg } = pair();
    const other = new PgStore(pg.url);
    stores.push(other);
    const visitor = await pg.createVisitor(Buffer.from([1, 2, 3]));
    expect((await other.getVisitor(visitor.id))!.secretHash).toEqual(Buffer.from([1, 2, 3]));
    const start = (s: Store) => s.startConversation({ visitorId: visitor.id, identity: null, pageUrl: null, body: 'hello', clientId: 'c-1', at: 1 });
    const results = await Promise.all([start(pg), start(other), start(pg)]);
    expect(new Set(results.map((r) => r.conversation.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect((await pg.getConversation(results[0]!.conversation.id))!.messages).toHaveLength(1);
  });
});
