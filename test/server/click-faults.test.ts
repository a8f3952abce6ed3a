import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Health } from '../../api/types.ts';
import { ClickJournal, journalDir, listSegments, rejectedPath, segmentPath } from '../../server/tracking/journal.ts';
import type { TrackingWrite } from '../../server/store/store.ts';
import { startChildServer, type ChildServer } from '../support/child-server.ts';
import { removeDir, tempDir, testServer } from '../support/server.ts';
import { BROWSER_UA, sendMessage } from '../support/tracking.ts';

// These tests make the faults for real: a tmpfs they mount and fill, a database file made
// immutable (root ignores file modes). They run as root, as this machine's tests do.

const dirs: string[] = [];
const children: ChildServer[] = [];
const undo: (() => void)[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.child.kill('SIGKILL');
    await c.exited;
  }
  for (const step of undo.splice(0).reverse()) step();
  dirs.splice(0).forEach(removeDir);
});

const ENV = {
  CLICKTRAIL_ADMIN_TOKEN: 'test-admin-token',
  CLICKTRAIL_SECRET: 'test-secret',
  CLICKTRAIL_PUBLIC_URL: 'http://links.shop.test',
};

/** A small filesystem of its own at path, unmounted after the test. */
function tmpfs(path: string, size: string): void {
  mkdirSync(path, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path]);
  undo.push(() => execFileSync('umount', ['-l', path]));
}

/** Fills the filesystem dir is on, to the last byte; free() gives space back (all of it, or some bytes). */
function fill(dir: string): { free(bytes?: number): void } {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(64 * 1024, 0x2e);
  let size = 0;
  for (const piece of [block.length, 4096, 1]) {
    try {
      for (;;) size += writeSync(fd, block, 0, piece);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    }
  }
  closeSync(fd);
  return {
    free(bytes?: number) {
      if (bytes === undefined) rmSync(path);
      else truncateSync(path, (size -= bytes));
    },
  };
}

/** Makes a file immutable (what makes it read-only for root), until the test ends or writable() is called. */
function readOnly(path: string): { writable(): void } {
  execFileSync('chattr', ['+i', path]);
  let immutable = true;
  const writable = () => {
    if (immutable) execFileSync('chattr', ['-i', path]);
    immutable = false;
  };
  undo.push(writable);
  return { writable };
}

/** A sent message in a fresh data folder, made by the in-process app, then handed to a child server. */
async function prepare(emails = ['a@shop.test', 'b@shop.test'], dir = tempDir()) {
  dirs.push(dir);
  const env = { ...ENV, CLICKTRAIL_DB: join(dir, 'clicktrail.db') };
  const s = testServer(env, dir);
  const sent = await sendMessage(
    s,
    '<a href="https://www.shop.test/a">a</a><a href="https://www.shop.test/b">b</a>',
    emails.map((email) => ({ email })),
  );
  await s.close();
  return { env, dir, dbPath: env.CLICKTRAIL_DB, copies: sent.copies, links: [...sent.copies.values()].flatMap((c) => c.links) };
}

async function health(server: ChildServer): Promise<Health['clicks']> {
  const res = await fetch(`http://127.0.0.1:${server.port}/api/health`, { headers: { authorization: `Bearer ${ENV.CLICKTRAIL_ADMIN_TOKEN}` } });
  return ((await res.json()) as Health).clicks;
}

/** Clicks as browsers would, `concurrency` at a time, each with a user agent of its own; returns those answered with a redirect. */
async function clickMany(server: ChildServer, paths: string[], n: number, concurrency = 1, label = 'click'): Promise<{ ua: string; location: string }[]> {
  const answered: { ua: string; location: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const ua = `${BROWSER_UA} ${label}/${i}`;
      const res = await fetch(`http://127.0.0.1:${server.port}${paths[i % paths.length]}`, { headers: { 'user-agent': ua }, redirect: 'manual' });
      if (res.status === 302) answered.push({ ua, location: res.headers.get('location')! });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answered;
}

function storedAgents(dbPath: string): string[] {
  const check = new Database(dbPath, { readonly: true });
  try {
    return (check.prepare('SELECT user_agent FROM clicks ORDER BY id').all() as { user_agent: string }[]).map((r) => r.user_agent);
  } finally {
    check.close();
  }
}

/** Every line of every segment, oldest first: each must be a whole hit. */
function journalLines(dir: string): string[] {
  const text = listSegments(dir)
    .map((s) => readFileSync(segmentPath(dir, s), 'utf8'))
    .join('');
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text.split('\n').slice(0, -1);
}

describe('a full disk under the click journal', () => {
  const hit = (i: number): TrackingWrite => ({
    kind: 'click',
    linkId: 1,
    recipientId: 1,
    messageId: 1,
    at: i,
    botReason: null,
    ip: null,
    userAgent: `ua ${i} `.padEnd(200, 'x'),
  });
  const ats = (lines: string[]) => lines.map((l) => (JSON.parse(l) as { at: number }).at);

  it('holds what it refuses in memory, leaves only whole lines, and appends it all in order when space returns', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const journalFolder = join(dir, 'journal');
    tmpfs(journalFolder, '256k');
    const disk = fill(journalFolder);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const logs = vi.spyOn(console, 'log').mockImplementation(() => {});
    undo.push(() => (errors.mockRestore(), logs.mockRestore()));
    const journal = new ClickJournal(journalFolder, { retryMs: 20 });
    undo.push(() => journal.close());

    // Full: every hit is answered (its promise resolves), none is in the file.
    for (let turn = 0; turn < 10; turn++) await Promise.all(Array.from({ length: 50 }, (_, i) => journal.append(hit(turn * 50 + i))));
    expect({ appended: journal.appended, waiting: journal.waiting, dropped: journal.dropped }).toEqual({ appended: 0, waiting: 500, dropped: 0 });
    expect(journalLines(journalFolder)).toEqual([]);
    expect(errors.mock.calls.flat().join(' ')).toMatch(/cannot append to the click journal.*ENOSPC/);

    // A page of space: part of a write goes in, cut back to its last whole line.
    disk.free(4096);
    await Promise.all(Array.from({ length: 50 }, (_, i) => journal.append(hit(500 + i))));
    const some = journalLines(journalFolder);
    expect(journal.appended).toBeGreaterThan(0);
    expect(journal.appended).toBe(some.length);
    expect(ats(some)).toEqual([...Array(some.length).keys()]);
    expect(journal.appended + journal.waiting).toBe(550);

    // Space returns: the timer appends the rest, in order, each once.
    disk.free();
    await expect.poll(() => journal.waiting, { timeout: 5_000 }).toBe(0);
    expect(ats(journalLines(journalFolder))).toEqual([...Array(550).keys()]);
    expect({ appended: journal.appended, dropped: journal.dropped }).toEqual({ appended: 550, dropped: 0 });
    expect(logs.mock.calls.flat().join(' ')).toMatch(/takes writes again/);
  });

  it('holds no more than maxWaiting, and counts the rest as dropped, once', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const journalFolder = join(dir, 'journal');
    tmpfs(journalFolder, '64k');
    const disk = fill(journalFolder);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const logs = vi.spyOn(console, 'log').mockImplementation(() => {});
    undo.push(() => (errors.mockRestore(), logs.mockRestore()));
    const journal = new ClickJournal(journalFolder, { retryMs: 20, maxWaiting: 100 });
    undo.push(() => journal.close());
    for (let turn = 0; turn < 3; turn++) await Promise.all(Array.from({ length: 50 }, (_, i) => journal.append(hit(turn * 50 + i))));
    expect({ appended: journal.appended, waiting: journal.waiting, dropped: journal.dropped }).toEqual({ appended: 0, waiting: 100, dropped: 50 });
    disk.free();
    await expect.poll(() => journal.waiting, { timeout: 5_000 }).toBe(0);
    expect({ appended: journal.appended, waiting: journal.waiting, dropped: journal.dropped }).toEqual({ appended: 100, waiting: 0, dropped: 50 });
    expect(ats(journalLines(journalFolder))).toEqual([...Array(100).keys()]);
  });

  it('keeps the server answering, and every answered click reaches the database once space returns', async () => {
    const { env, dbPath, links } = await prepare();
    // The journal's folder is a 1 MB filesystem of its own, full before the server starts.
    const journalFolder = journalDir(dbPath);
    rmSync(journalFolder, { recursive: true, force: true });
    tmpfs(journalFolder, '1m');
    const disk = fill(journalFolder);
    const server = await startChildServer(env);
    children.push(server);

    const CLICKS = 3_000; // about 1.1 MB of journal: more than the whole filesystem
    const t0 = performance.now();
    const answered = await clickMany(server, links, CLICKS, 16);
    const answerSeconds = (performance.now() - t0) / 1000;
    expect(answered).toHaveLength(CLICKS);
    expect(new Set(answered.map((a) => a.location))).toEqual(new Set(['https://www.shop.test/a', 'https://www.shop.test/b']));
    const full = await health(server);
    expect(full).toMatchObject({ written: 0, dropped: 0, setAside: 0, writing: true });
    expect(full.waiting).toBeGreaterThanOrEqual(CLICKS); // the clicks, and any taking-back the bot rules added
    expect(full.queued).toBe(full.waiting);
    expect(storedAgents(dbPath)).toEqual([]);
    expect(server.output()).toMatch(/cannot append to the click journal.*ENOSPC/);

    const t1 = performance.now();
    disk.free();
    await expect.poll(async () => (await health(server)).queued, { timeout: 60_000, interval: 100 }).toBe(0);
    const recordSeconds = (performance.now() - t1) / 1000;
    expect(await health(server)).toMatchObject({ queued: 0, waiting: 0, written: full.waiting, dropped: 0, setAside: 0 });
    const stored = storedAgents(dbPath);
    expect(stored).toHaveLength(CLICKS);
    expect(new Set(stored)).toEqual(new Set(answered.map((a) => a.ua)));
    expect(server.output()).toMatch(/takes writes again/);
    console.log(
      `[figures] disk full: ${answered.length}/${CLICKS} clicks answered 302 in ${answerSeconds.toFixed(1)} s (${full.waiting} journal lines held in memory); ` +
        `space back: all ${stored.length} in the database ${recordSeconds.toFixed(1)} s later, dropped 0`,
    );

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});

describe('a read-only database', () => {
  it('still lets the server start and redirect; the clicks wait in the journal and are written once it is writable', async () => {
    const { env, dbPath, links } = await prepare();
    // An earlier run left clicks in the journal: answered while the database was locked, then killed.
    const first = await startChildServer(env);
    children.push(first);
    const locker = new Database(dbPath);
    locker.exec('BEGIN EXCLUSIVE');
    expect(await clickMany(first, links, 8, 1, 'earlier')).toHaveLength(8);
    first.child.kill('SIGKILL');
    await first.exited;
    locker.exec('ROLLBACK');
    locker.close();

    const files = [dbPath, `${dbPath}-wal`, `${dbPath}-shm`].filter((f) => existsSync(f)).map(readOnly);
    const probe = new Database(dbPath);
    expect(() => probe.exec('UPDATE settings SET data = data')).toThrow(/readonly/);
    probe.close();

    const server = await startChildServer(env);
    children.push(server);
    const answered = await clickMany(server, links, 8, 1, 'read-only');
    expect(answered.map((a) => a.location)).toEqual(Array.from({ length: 8 }, (_, i) => `https://www.shop.test/${'ab'[i % 2]}`));
    const stuck = await health(server);
    expect(stuck).toMatchObject({ queued: 16, waiting: 0, written: 0, dropped: 0, setAside: 0, writing: false });
    expect(stuck.error).toMatch(/readonly/);
    expect(server.output()).toMatch(/the database is read-only/);
    expect(server.output()).toMatch(/click store unavailable, the hits wait in the journal: attempt to write a readonly database/);

    for (const f of files) f.writable();
    await expect.poll(async () => (await health(server)).queued, { timeout: 10_000, interval: 100 }).toBe(0);
    expect(await health(server)).toMatchObject({ queued: 0, written: 16, setAside: 0, writing: true, error: null });
    expect(storedAgents(dbPath).sort()).toEqual(
      [...Array.from({ length: 8 }, (_, i) => `${BROWSER_UA} earlier/${i}`), ...answered.map((a) => a.ua)].sort(),
    );

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});

describe('a database replaced while the journal stayed', () => {
  it('sets aside the clicks naming recipients it does not have, and records the clicks after them', async () => {
    const { env, dir, dbPath, links } = await prepare();
    const first = await startChildServer(env);
    children.push(first);
    const locker = new Database(dbPath);
    locker.exec('BEGIN EXCLUSIVE');
    // a@ and b@'s first link, twice each: people's clicks, for recipients 1 and 2.
    const before = await clickMany(first, [links[0]!, links[2]!], 4, 1, 'old');
    expect(before).toHaveLength(4);
    first.child.kill('SIGKILL');
    await first.exited;
    locker.exec('ROLLBACK');
    locker.close();

    // The database is replaced by another (restored from elsewhere): its only recipient is number 3.
    const other = await prepare(['x@shop.test', 'y@shop.test', 'z@shop.test'], tempDir());
    const edit = new Database(other.dbPath);
    edit.exec(`DELETE FROM recipients WHERE email IN ('x@shop.test', 'y@shop.test'); DELETE FROM click_journals;`);
    edit.close();
    for (const f of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) rmSync(f, { force: true });
    copyFileSync(other.dbPath, dbPath);
    const zLinks = other.copies.get('z@shop.test')!.links;

    const server = await startChildServer(env);
    children.push(server);
    expect(await health(server)).toMatchObject({ queued: 0, written: 0, setAside: 4, writing: true, error: null });
    expect(server.output()).toMatch(/the database refused 4 hit\(s\) \(no recipient [12]\)/);
    const aside = readFileSync(rejectedPath(journalDir(join(dir, 'clicktrail.db'))), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { error: string; hit: TrackingWrite & { userAgent: string } });
    expect(aside.map((r) => r.hit.userAgent)).toEqual(before.map((b) => b.ua));
    expect(aside.map((r) => r.error)).toEqual(['no recipient 1', 'no recipient 2', 'no recipient 1', 'no recipient 2']);

    const after = await clickMany(server, zLinks, 4, 1, 'new');
    expect(after).toHaveLength(4);
    await expect.poll(() => storedAgents(dbPath), { timeout: 10_000 }).toEqual(after.map((a) => a.ua));
    expect(await health(server)).toMatchObject({ queued: 0, written: 4, setAside: 4, dropped: 0 });
    expect(readdirSync(journalDir(dbPath))).toContain('rejected.jsonl');

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
