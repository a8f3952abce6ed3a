import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import { JournalIngester } from '../../server/tracking/ingest.ts';
import { ClickJournal, journalDir, rejectedPath, segmentPath } from '../../server/tracking/journal.ts';
import { Tracking } from '../../server/tracking/tracking.ts';
import { JournalMoved, type TrackingWrite } from '../../server/store/store.ts';
import { migrations } from '../../server/store/sqlite/migrations.ts';
import { removeDir, tempDir } from '../support/server.ts';
import { messageWithLinks } from '../support/store-message.ts';

const NODE = 'node-a';

const dirs: string[] = [];
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  dirs.splice(0).forEach(removeDir);
});

/** A real database with one message, one link and one recipient, and the parts of the click path over it. */
async function setup() {
  const dir = tempDir();
  dirs.push(dir);
  const path = join(dir, 'ct.db');
  const core = new SqliteStore(path);
  const m = await messageWithLinks(core, ['https://x.test/']);
  await core.addRecipients(m.id, [{ email: 'a@shop.test' }]);
  const recipient = (await core.findRecipient(m.id, 'a@shop.test'))!;
  const store = new SqliteStore(path, { busyTimeoutMs: 0 });
  closers.push(() => core.close(), () => store.close());
  const click = (at: number): TrackingWrite => ({
    kind: 'click',
    linkId: m.links[0]!.id,
    recipientId: recipient.id,
    messageId: m.id,
    at,
    botReason: null,
    ip: null,
    userAgent: `ua ${at}`,
  });
  const stored = () => (core.db.prepare('SELECT at FROM clicks ORDER BY id').all() as { at: number }[]).map((r) => r.at);
  const counts = () => core.db.prepare('SELECT total, uniq FROM link_counts').get();
  return { path, dir: journalDir(path), core, store, click, stored, counts };
}

const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);

describe('the click journal', () => {
  it('appends the hits of one turn of the event loop with one write, and answers once they are in the file', async () => {
    const { dir, click } = await setup();
    const journal = new ClickJournal(dir);
    closers.push(() => journal.close());
    const answers = Array.from({ length: 50 }, (_, i) => journal.append(click(i)));
    // Nothing is written until the turn ends...
    expect(lines(segmentPath(dir, journal.firstSegment))).toEqual([]);
    await Promise.all(answers);
    // ...then all of it, in order.
    const written = lines(segmentPath(dir, journal.firstSegment)).map((l) => (JSON.parse(l) as { at: number }).at);
    expect(written).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(journal.appended).toBe(50);
    expect(journal.pending).toBe(50);
  });

  it('starts a new segment past the size limit, after any an earlier run left', async () => {
    const { dir, click } = await setup();
    const first = new ClickJournal(dir);
    await first.append(click(0));
    first.close();
    const journal = new ClickJournal(dir, { segmentBytes: 500 });
    closers.push(() => journal.close());
    expect(journal.firstSegment).toBe(first.firstSegment + 1);
    for (let i = 0; i < 10; i++) await journal.append(click(i));
    const segments = readdirSync(dir).sort();
    expect(segments.length).toBeGreaterThan(3);
    const all = segments.slice(1).flatMap((name) => lines(join(dir, name)));
    expect(all.map((l) => (JSON.parse(l) as { at: number }).at)).toEqual([...Array(10).keys()]);
  });

  it('refuses hits past maxPending and counts them, rather than fill the disk while the database is away', async () => {
    const { dir, click } = await setup();
    const journal = new ClickJournal(dir, { maxPending: 10 });
    closers.push(() => journal.close());
    for (let i = 0; i < 15; i++) await journal.append(click(i));
    expect(journal.appended).toBe(10);
    expect(journal.dropped).toBe(5);
  });
});

describe('the journal ingester', () => {
  it('writes the journal into the database once, with the counters, and deletes the segments it has finished', async () => {
    const { dir, store, click, stored, counts } = await setup();
    const journal = new ClickJournal(dir, { segmentBytes: 1_000 });
    const ingester = new JournalIngester(store, dir, journal.firstSegment, NODE);
    for (let i = 0; i < 20; i++) await journal.append(click(i));
    expect(await ingester.step()).toBe(20);
    expect(await ingester.step()).toBe(0);
    expect(stored()).toEqual([...Array(20).keys()]);
    expect(counts()).toEqual({ total: 20, uniq: 1 });
    expect(ingester.written).toBe(20);
    // Only the segment still being written is left.
    const at = (await store.journalPosition(NODE))!.segment;
    expect(at).toBeGreaterThan(journal.firstSegment);
    expect(readdirSync(dir)).toEqual([basename(segmentPath(dir, at))]);

    // A new ingester over the same database starts where the last one stopped.
    for (let i = 20; i < 25; i++) await journal.append(click(i));
    journal.close();
    expect(await new JournalIngester(store, dir, journal.firstSegment, NODE).step()).toBe(5);
    expect(stored()).toEqual([...Array(25).keys()]);
  });

  it('writes a user agent outside ASCII as it came, beside ASCII ones in the same stretch', async () => {
    const { dir, store, core, click } = await setup();
    const journal = new ClickJournal(dir);
    const ingester = new JournalIngester(store, dir, journal.firstSegment, NODE);
    const agents = ['Mozilla/5.0 (plain)', 'Mozilla/5.0 (Ünïcödé; 日本語) ✓', 'Mozilla/5.0 (plain again)'];
    for (const [i, userAgent] of agents.entries()) await journal.append(Object.assign(click(i), { userAgent }));
    expect(await ingester.step()).toBe(3);
    expect((core.db.prepare('SELECT user_agent FROM clicks ORDER BY id').all() as { user_agent: string }[]).map((r) => r.user_agent)).toEqual(agents);
    journal.close();
  });

  it('leaves the position where it was while the database is locked, and writes everything once it is back', async () => {
    const { dir, core, store, click, stored } = await setup();
    const journal = new ClickJournal(dir);
    closers.push(() => journal.close());
    const ingester = new JournalIngester(store, dir, journal.firstSegment, NODE);
    for (let i = 0; i < 5; i++) await journal.append(click(i));
    core.db.exec('BEGIN EXCLUSIVE');
    await expect(ingester.step()).rejects.toThrow(/locked|busy/i);
    core.db.exec('ROLLBACK');
    expect(stored()).toEqual([]);
    expect(await ingester.step()).toBe(5);
    expect(stored()).toEqual([0, 1, 2, 3, 4]);
  });

  it('writes what an earlier run left, skipping a line a crash cut short', async () => {
    const { dir, store, click, stored } = await setup();
    const crashed = new ClickJournal(dir);
    await crashed.append(click(1));
    await crashed.append(click(2));
    // The process died in the middle of a write: half a line, whose answer never went out.
    appendFileSync(segmentPath(dir, crashed.firstSegment), JSON.stringify(click(3)).slice(0, 40));

    const journal = new ClickJournal(dir);
    closers.push(() => journal.close());
    await journal.append(click(4));
    const ingester = new JournalIngester(store, dir, journal.firstSegment, NODE);
    expect(await ingester.step()).toBe(3);
    expect(stored()).toEqual([1, 2, 4]);
    expect({ recovered: ingester.recovered, written: ingester.written, skipped: ingester.skipped }).toEqual({ recovered: 2, written: 1, skipped: 1 });
  });

  it('never writes a stretch twice when two ingesters race over one database', async () => {
    const { dir, store, click, stored, counts } = await setup();
    const journal = new ClickJournal(dir);
    closers.push(() => journal.close());
    const a = new JournalIngester(store, dir, journal.firstSegment, NODE);
    const b = new JournalIngester(store, dir, journal.firstSegment, NODE);
    await a.step();
    await b.step(); // both now know the same position
    for (let i = 0; i < 3; i++) await journal.append(click(i));
    expect(await a.step()).toBe(3);
    // b read the same lines from a stale position: the database refuses, b looks again and finds nothing new.
    await expect(b.step()).rejects.toThrow(JournalMoved);
    expect(await b.step()).toBe(0);
    expect(stored()).toEqual([0, 1, 2]);
    expect(counts()).toEqual({ total: 3, uniq: 1 });
  });
});

describe('a hit the database refuses', () => {
  const rejected = (dir: string) => (existsSync(rejectedPath(dir)) ? lines(rejectedPath(dir)).map((l) => JSON.parse(l) as { segment: number; offset: number; error: string; hit: TrackingWrite }) : []);

  it('is set aside, kept and counted, and the hits after it are written', async () => {
    const { dir, store, click, stored, counts } = await setup();
    const journal = new ClickJournal(dir);
    closers.push(() => journal.close());
    const ingester = new JournalIngester(store, dir, journal.firstSegment, NODE);
    // The database was replaced while the journal stayed: recipient 999 is not in it. And a line no constraint lets in.
    const missing = { ...click(2), recipientId: 999 };
    const unfit = { ...click(3), at: null as unknown as number };
    for (const w of [click(1), missing, unfit, click(4)]) await journal.append(w);

    expect(await ingester.step()).toBe(2);
    expect(stored()).toEqual([1, 4]);
    expect(counts()).toEqual({ total: 2, uniq: 1 });
    expect(ingester.setAside).toBe(2);
    const aside = rejected(dir);
    expect(aside.map((r) => r.hit)).toEqual([missing, unfit]);
    expect(aside[0]!.error).toMatch(/no recipient 999/);
    expect(aside[1]!.error).toMatch(/NOT NULL/);
    // Where each was in the journal: the line itself, byte for byte.
    const segment = readFileSync(segmentPath(dir, journal.firstSegment));
    for (const r of aside) expect(segment.toString('utf8', r.offset).split('\n')[0]).toBe(JSON.stringify(r.hit));

    // Nothing waits behind them, and nothing is set aside twice.
    await journal.append(click(5));
    expect(await ingester.step()).toBe(1);
    expect(await ingester.step()).toBe(0);
    expect(stored()).toEqual([1, 4, 5]);
    expect(rejected(dir)).toHaveLength(2);
    expect(ingester.status(null)).toMatchObject({ written: 3, consumed: 5, leftover: 0, setAside: 2 });
  });

  it('is not what a locked database is: everything waits, nothing is set aside', async () => {
    const { dir, core, store, click, stored } = await setup();
    const journal = new ClickJournal(dir);
    closers.push(() => journal.close());
    const ingester = new JournalIngester(store, dir, journal.firstSegment, NODE);
    for (const w of [click(1), { ...click(2), recipientId: 999 }, click(3)]) await journal.append(w);
    core.db.exec('BEGIN EXCLUSIVE');
    for (let i = 0; i < 3; i++) await expect(ingester.step()).rejects.toThrow(/locked|busy/i);
    expect(ingester.setAside).toBe(0);
    expect(existsSync(rejectedPath(dir))).toBe(false);
    core.db.exec('ROLLBACK');
    expect(await ingester.step()).toBe(2);
    expect(stored()).toEqual([1, 3]);
    expect(ingester.setAside).toBe(1);
  });

  it('is not what a read-only database is: everything waits, and is written once the file is writable', async () => {
    const { path, dir, core, store: before, click } = await setup();
    const journal = new ClickJournal(dir);
    closers.push(() => journal.close());
    for (const w of [click(1), { ...click(2), recipientId: 999 }, click(3)]) await journal.append(w);
    // Root ignores file modes: immutable is what makes the file read-only here. Every
    // connection of this process is closed first: SQLite would reuse their read-write descriptor.
    await core.close();
    await before.close();
    execFileSync('chattr', ['+i', path]);
    let immutable = true;
    const writable = () => {
      if (immutable) execFileSync('chattr', ['-i', path]);
      immutable = false;
    };
    closers.push(writable);
    const store = new SqliteStore(path, { busyTimeoutMs: 0 }); // opens, read-only
    closers.push(() => store.close());
    const ingester = new JournalIngester(store, dir, journal.firstSegment, NODE);
    for (let i = 0; i < 3; i++) await expect(ingester.step()).rejects.toThrow(/readonly/i);
    expect(ingester.setAside).toBe(0);
    expect(existsSync(rejectedPath(dir))).toBe(false);

    writable();
    // The same store: its connection was opened read-only, and it opens a new one.
    await expect(ingester.step()).resolves.toBeTypeOf('number');
    const check = new SqliteStore(path);
    closers.push(() => check.close());
    expect((check.db.prepare('SELECT at FROM clicks ORDER BY id').all() as { at: number }[]).map((r) => r.at)).toEqual([1, 3]);
    expect(ingester.setAside).toBe(1);
  });
});

describe('the queue', () => {
  it('counts the hits an earlier run left, while they cannot be written and after', async () => {
    const { path, dir, core, click } = await setup();
    const crashed = new ClickJournal(dir);
    for (let i = 0; i < 3; i++) await crashed.append(click(i));
    // The process died there; the database is locked as this one starts.
    core.db.exec('BEGIN EXCLUSIVE');
    const tracking = new Tracking(new SqliteStore(path, { busyTimeoutMs: 0 }), { database: { kind: 'sqlite', path }, journalDir: journalDir(path), nodeId: NODE, writer: 'inline' });
    closers.push(() => tracking.close());
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    closers.push(() => errors.mockRestore());
    await tracking.settle();
    expect(tracking.counts).toMatchObject({ queued: 3, written: 0, writing: false, error: expect.stringMatching(/locked/) });
    await tracking.record(click(3));
    expect(tracking.counts).toMatchObject({ queued: 4, written: 0 });
    core.db.exec('ROLLBACK');
    await tracking.settle();
    expect(tracking.counts).toEqual({ queued: 0, waiting: 0, written: 4, dropped: 0, setAside: 0, writing: true, error: null });
  });
});

describe('the writer thread', () => {
  it('is started again after it died, and then writes what waited in the journal', async () => {
    const { path, core, click, stored } = await setup();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    closers.push(() => errors.mockRestore());
    const tracking = new Tracking(new SqliteStore(path, { busyTimeoutMs: 0 }), { database: { kind: 'sqlite', path }, journalDir: journalDir(path), nodeId: NODE, writer: 'worker' });
    closers.push(() => tracking.close());
    // Now the database looks like a newer release's: the writer, starting, refuses it and dies.
    core.db.pragma('user_version = 99');
    await tracking.settle();
    await tracking.record(click(1));
    expect(errors.mock.calls.flat().join(' ')).toMatch(/click writer stopped, starting it again in 1 s/);

    core.db.pragma(`user_version = ${migrations.length}`);
    await expect.poll(stored, { timeout: 10_000 }).toEqual([1]);
    expect(tracking.counts).toEqual({ queued: 0, waiting: 0, written: 1, dropped: 0, setAside: 0, writing: true, error: null });
  });
});
