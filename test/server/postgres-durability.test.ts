import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MessageStats } from '../../api/types.ts';
import { startChildServer, type ChildServer } from '../support/child-server.ts';
import { setAvailable, testCluster, withTestStore } from '../support/postgres.ts';
import { removeDir, tempDir, testServer, type TestServer } from '../support/server.ts';
import { sqlAt, sqlValue } from '../support/sql.ts';
import { BROWSER_UA, hit, sendMessage, sentInFreshFolder } from '../support/tracking.ts';

// What durability.test.ts shows of a locked SQLite file, for a PostgreSQL database that is
// down (it refuses connections and has ended the ones it had), and two servers on one database.

const dirs: string[] = [];
const children: ChildServer[] = [];
const servers: TestServer[] = [];
const undo: (() => void)[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.child.kill('SIGKILL');
    await c.exited;
  }
  for (const s of servers.splice(0)) await s.close();
  for (const step of undo.splice(0).reverse()) step();
  dirs.splice(0).forEach(removeDir);
});

/** The database of a server's environment refuses connections until the test ends or it is given back. */
function takeDown(url: string): { bringBack(): void } {
  setAvailable(testCluster(), url, false);
  let down = true;
  const bringBack = () => {
    if (down) setAvailable(testCluster(), url, true);
    down = false;
  };
  undo.push(bringBack);
  return { bringBack };
}

async function get(port: number, path: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: 'Bearer test-admin-token', 'user-agent': BROWSER_UA }, redirect: 'manual' });
}

describe('a PostgreSQL database that is down', () => {
  it('does not stop the redirect: the clicks wait in the journal and are written once it is back', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const s = testServer({}, dir);
    servers.push(s);
    const people = ['a', 'b', 'c'].map((p) => ({ email: `${p}@shop.test` }));
    const sent = await sendMessage(s, '<a href="https://www.shop.test/a">a</a>', people);
    // Each link and recipient once, while the database is up: the redirect keeps them in memory.
    for (const { email } of people) expect((await hit(s, sent.copies.get(email)!.links[0]!)).status).toBe(302);
    await s.ctx.tracking.settle();

    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    undo.push(() => errors.mockRestore());
    const db = takeDown((s.ctx.config.database as { url: string }).url);
    for (const { email } of people) {
      const res = await hit(s, sent.copies.get(email)!.links[0]!);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('https://www.shop.test/a');
    }
    await s.ctx.tracking.settle();
    expect(s.ctx.tracking.counts).toMatchObject({ queued: 3, writing: false, error: expect.stringMatching(/not currently accepting connections|terminating connection/) });

    db.bringBack();
    await expect.poll(() => s.ctx.tracking.counts.queued, { timeout: 10_000 }).toBe(0);
    expect(await sqlValue(s, 'SELECT count(*) FROM clicks')).toBe(6);
    const stats = (await (await s.api('GET', `/api/messages/${sent.id}/stats`)).json()) as MessageStats;
    expect(stats.clicks).toEqual({ total: 6, unique: 3, bot: 0, suspect: 0 });
  });

  it('keeps the clicks answered while it was down through a SIGKILL, and writes them at the next start', async () => {
    const { dir, env, sent } = await sentInFreshFolder('<a href="https://www.shop.test/a">a</a><a href="https://www.shop.test/b">b</a>', [{ email: 'a@shop.test' }, { email: 'b@shop.test' }]);
    dirs.push(dir);
    const links = [...sent.copies.values()].flatMap((c) => c.links);
    const url = withTestStore(env).CLICKTRAIL_DATABASE_URL!;
    const server = await startChildServer(env);
    children.push(server);
    for (const link of links) expect((await get(server.port, link)).status).toBe(302);
    await expect.poll(async () => (await sqlAt(env, 'SELECT count(*) AS n FROM clicks'))[0], { timeout: 5_000 }).toEqual({ n: 4 });

    const db = takeDown(url);
    for (let i = 0; i < 20; i++) expect((await get(server.port, links[i % links.length]!)).status).toBe(302);
    server.child.kill('SIGKILL');
    expect(await server.exited).toBe('SIGKILL');
    db.bringBack();
    expect(await sqlAt(env, 'SELECT count(*) AS n FROM clicks')).toEqual([{ n: 4 }]);

    const again = await startChildServer(env);
    children.push(again);
    // Written before it listened.
    expect(await sqlAt(env, 'SELECT count(*) AS n FROM clicks')).toEqual([{ n: 24 }]);
    expect(again.output()).toMatch(/wrote 20 hits an earlier run left/);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });
});

describe('two servers on one PostgreSQL database', () => {
  it('count every click either answered once, through a SIGKILL of one mid-load, and report the same stats', async () => {
    const { dir, env, sent } = await sentInFreshFolder(
      '<a href="https://www.shop.test/a">a</a><a href="https://www.shop.test/b">b</a>',
      Array.from({ length: 20 }, (_, i) => ({ email: `p${i}@shop.test` })),
    );
    dirs.push(dir);
    const links = [...sent.copies.values()].flatMap((c) => c.links);
    const node = (name: string) => ({ ...env, CLICKTRAIL_DATA_DIR: join(dir, name) });
    let a = await startChildServer(node('a'));
    children.push(a);
    const b = await startChildServer(node('b'));
    children.push(b);

    const answered: string[] = [];
    let next = 0;
    let aDown = false;
    const worker = async () => {
      while (next < 4_000) {
        const i = next++;
        const ua = `${BROWSER_UA} click/${i}`;
        // Every other click to each node, as a load balancer would spread them.
        const port = i % 2 === 0 && !aDown ? a.port : b.port;
        try {
          const res = await fetch(`http://127.0.0.1:${port}${links[i % links.length]}`, { headers: { 'user-agent': ua }, redirect: 'manual' });
          if (res.status === 302) answered.push(ua);
        } catch {
          // a was killed under this one: not answered
        }
        if (i === 1_500) {
          a.child.kill('SIGKILL');
          aDown = true;
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(await a.exited).toBe('SIGKILL');
    expect(answered.length).toBeGreaterThan(3_900);

    // a starts again on its own folder: what its journal held is written before it listens.
    a = await startChildServer(node('a'));
    children.push(a);
    const stats = async (port: number) => ((await (await get(port, `/api/messages/${sent.id}/stats`)).json()) as MessageStats).clicks;
    const [fromA, fromB] = [await stats(a.port), await stats(b.port)];
    expect(fromA).toEqual(fromB);
    const stored = (await sqlAt<{ user_agent: string }>(env, 'SELECT user_agent FROM clicks')).map((r) => r.user_agent);
    // Each once; every one answered with a 302 among them (and perhaps one whose answer the kill cut off).
    expect(new Set(stored).size).toBe(stored.length);
    const kept = new Set(stored);
    expect(answered.filter((ua) => !kept.has(ua))).toEqual([]);
    expect(stored.length - answered.length).toBeLessThanOrEqual(16);
    expect(fromA.total + fromA.bot).toBe(stored.length);
  }, 60_000);
});
