import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from '../support/child-server.ts';
import { removeDir, tempDir, testServer } from '../support/server.ts';
import { sqlAt } from '../support/sql.ts';
import { BROWSER_UA, db, hit, sendMessage, sentInFreshFolder } from '../support/tracking.ts';

const dirs: string[] = [];
const children: ChildServer[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.child.kill('SIGKILL');
  dirs.splice(0).forEach(removeDir);
});

/** A sent message in a fresh data folder, made by the in-process app, then handed to a child server. */
async function prepare() {
  const { dir, env, sent } = await sentInFreshFolder('<a href="https://www.shop.test/a">a</a><a href="https://www.shop.test/b">b</a>', [
    { email: 'a@shop.test' },
    { email: 'b@shop.test' },
  ]);
  dirs.push(dir);
  const links = [...sent.copies.values()].flatMap((c) => c.links);
  return { env, links, dbPath: env.CLICKTRAIL_DB };
}

/** Clicks each path on the child server, as a browser, one after another: each gets its 302. */
async function clickEach(server: ChildServer, paths: string[]): Promise<void> {
  for (const path of paths) {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers: { 'user-agent': BROWSER_UA }, redirect: 'manual' });
    expect(res.status).toBe(302);
  }
}

describe('durable click recording', () => {
  it('has every click that got a 302 in the database after a SIGKILL mid-load', async () => {
    const { env, links } = await prepare();
    const server = await startChildServer(env);
    children.push(server);

    const answered: string[] = [];
    let stop = false;
    let next = 0;
    const worker = async () => {
      while (!stop && next < 20_000) {
        const i = next++;
        const ua = `${BROWSER_UA} click/${i}`;
        try {
          const res = await fetch(`http://127.0.0.1:${server.port}${links[i % links.length]}`, {
            headers: { 'user-agent': ua },
            redirect: 'manual',
          });
          if (res.status === 302) answered.push(ua);
        } catch {
          return; // the server is gone
        }
      }
    };
    const load = Array.from({ length: 16 }, worker);
    while (answered.length < 2_500) await new Promise((r) => setTimeout(r, 5));
    server.child.kill('SIGKILL');
    stop = true;
    await Promise.all(load);
    expect(await server.exited).toBe('SIGKILL');
    expect(answered.length).toBeGreaterThanOrEqual(2_500);

    // It starts again on the same file, and every answered click is there.
    const again = await startChildServer(env);
    children.push(again);
    const stored = new Set((await sqlAt<{ user_agent: string }>(env, 'SELECT user_agent FROM clicks')).map((r) => r.user_agent));
    const ips = await sqlAt(env, 'SELECT DISTINCT ip FROM clicks');
    const missing = answered.filter((ua) => !stored.has(ua));
    expect(missing).toEqual([]);
    // Stored addresses are networks, never the address itself.
    expect(ips).toEqual([{ ip: '127.0.0.0/24' }]);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });

  // The next three lock the SQLite file: SQLite's own lock. PostgreSQL's unavailable database: postgres-durability.test.ts.
  it('keeps redirecting while the database is locked, and writes the clicks once it is back', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const s = testServer({}, dir);
    try {
      const people = ['a', 'b', 'c', 'd', 'e'].map((p) => ({ email: `${p}@shop.test` }));
      const sent = await sendMessage(s, '<a href="https://www.shop.test/a">a</a>', people);

      const locker = new Database(join(dir, 'clicktrail.db'));
      locker.exec('BEGIN EXCLUSIVE');
      const count = () => (locker.prepare('SELECT count(*) AS n FROM clicks').get() as { n: number }).n;
      for (const { email } of people) {
        const res = await hit(s, sent.copies.get(email)!.links[0]!);
        expect(res.status).toBe(302);
        expect(res.headers.get('location')).toBe('https://www.shop.test/a');
      }
      expect(s.ctx.tracking.counts.queued).toBe(5);
      expect(count()).toBe(0);
      locker.exec('ROLLBACK');
      locker.close();

      await expect.poll(() => (db(s).prepare('SELECT count(*) AS n FROM clicks').get() as { n: number }).n, { timeout: 10_000 }).toBe(5);
      expect(s.ctx.tracking.counts.queued).toBe(0);
      expect(((await (await s.api('GET', `/api/messages/${sent.id}/stats`)).json()) as { clicks: unknown }).clicks).toEqual({
        total: 5,
        unique: 5,
        bot: 0,
        suspect: 0,
      });
    } finally {
      await s.close();
    }
  });

  it('drains queued clicks on SIGTERM before it exits', async () => {
    const { env, links, dbPath } = await prepare();
    const server = await startChildServer(env);
    children.push(server);
    const locker = new Database(dbPath);
    locker.exec('BEGIN EXCLUSIVE');
    await clickEach(server, Array.from({ length: 20 }, () => links[0]!));
    server.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect((locker.prepare('SELECT count(*) AS n FROM clicks').get() as { n: number }).n).toBe(0);
    locker.exec('ROLLBACK');
    expect(await server.exited).toBe(0);
    expect((locker.prepare('SELECT count(*) AS n FROM clicks').get() as { n: number }).n).toBe(20);
    locker.close();
  });

  it('keeps clicks answered while the database was locked through a SIGKILL, and writes them at the next start', async () => {
    const { env, links, dbPath } = await prepare();
    const server = await startChildServer(env);
    children.push(server);
    const locker = new Database(dbPath);
    locker.exec('BEGIN EXCLUSIVE');
    await clickEach(server, Array.from({ length: 20 }, (_, i) => links[i % links.length]!));
    server.child.kill('SIGKILL');
    expect(await server.exited).toBe('SIGKILL');
    locker.exec('ROLLBACK');
    expect((locker.prepare('SELECT count(*) AS n FROM clicks').get() as { n: number }).n).toBe(0);

    const again = await startChildServer(env);
    children.push(again);
    expect((locker.prepare('SELECT count(*) AS n FROM clicks').get() as { n: number }).n).toBe(20);
    expect(again.output()).toMatch(/wrote 20 hits an earlier run left/);
    locker.close();
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });
});
