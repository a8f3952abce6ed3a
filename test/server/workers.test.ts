import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from '../support/child-server.ts';
import { removeDir, testServer } from '../support/server.ts';
import { sql, sqlRow } from '../support/sql.ts';
import { BROWSER_UA, CHILD_ENV, sentInFreshFolder } from '../support/tracking.ts';
import { sseReader } from '../widget/support.ts';

const dirs: string[] = [];
const children: ChildServer[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.child.kill('SIGKILL');
  dirs.splice(0).forEach(removeDir);
});

const ENV = CHILD_ENV;

async function prepare(people = 20) {
  const { dir, env, sent } = await sentInFreshFolder('<a href="https://www.shop.test/a">a</a>', Array.from({ length: people }, (_, i) => ({ email: `p${i}@shop.test` })));
  dirs.push(dir);
  return { dir, env, links: [...sent.copies.values()].map((c) => c.links[0]!), messageId: sent.id };
}

/** The worker processes of a primary, from /proc. */
function workerPids(primary: number): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const parent = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1];
        // tsx's esbuild service is a child too; the workers run main.ts.
        return parent === String(primary) && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('server/main.ts');
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** One request on a connection of its own (no keep-alive), so the cluster spreads them over the workers. */
function call(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', method, path, agent: false, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    // A connection the killed worker had taken is never answered: give up on it, as a browser would.
    req.setTimeout(5_000, () => req.destroy(new Error('no answer')));
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
const click = (port: number, path: string, i: number) => call(port, 'GET', path, { 'user-agent': `${BROWSER_UA} click/${i}`, 'accept-language': 'en' });

describe('CLICKTRAIL_WORKERS=2: two processes on one port', () => {
  it('counts every click answered by either worker once, through a SIGKILL of one of them', async () => {
    const { dir, env, links, messageId } = await prepare();
    const server = await startChildServer({ ...env, CLICKTRAIL_WORKERS: '2' });
    children.push(server);
    const workers = workerPids(server.child.pid!);
    expect(workers).toHaveLength(2);

    const answered = new Set<number>();
    const unanswered = new Set<number>();
    let next = 0;
    let killed = false;
    const run = async () => {
      while (next < 3_000) {
        const i = next++;
        if (i === 1_000 && !killed) {
          killed = true;
          process.kill(workers[1]!, 'SIGKILL');
        }
        try {
          const res = await click(server.port, links[i % links.length]!, i);
          (res.status === 302 ? answered : unanswered).add(i);
        } catch {
          // Refused while a worker was down, or taken by the killed one: not answered, so not
          // owed; one it had written to its journal before dying is counted all the same.
          unanswered.add(i);
        }
      }
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 8 }, run));
    console.log(`[figures] ${answered.size} of 3000 clicks answered in ${Date.now() - t0} ms by 2 workers, one SIGKILLed at the 1000th`);
    // The killed worker was started again, on its own journal.
    await expect.poll(() => workerPids(server.child.pid!).length, { timeout: 10_000 }).toBe(2);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const check = testServer(env, dir);
    try {
      // Each click carries its number in its user agent: every answered one is counted, once,
      // and anything else counted is one the killed worker had in hand, never one made up.
      const counted = (await sql<{ ua: string }>(check, 'SELECT user_agent AS ua FROM clicks')).map((r) => Number(/click\/(\d+)$/.exec(r.ua)![1]));
      const countedOnce = new Set(counted);
      expect(countedOnce.size).toBe(counted.length);
      expect([...answered].filter((i) => !countedOnce.has(i))).toEqual([]);
      expect(counted.filter((i) => !answered.has(i) && !unanswered.has(i))).toEqual([]);
      // Both workers answered clicks: two journals, two positions.
      expect(await sqlRow(check, 'SELECT count(*) AS n FROM click_journals')).toEqual({ n: 2 });
      // (Each recipient hammers its link here: most are 'repeat' bot hits. Counted either way, once.)
      const stats = (await (await check.api('GET', `/api/messages/${messageId}/stats`)).json()) as { clicks: { total: number; bot: number } };
      expect(stats.clicks.total + stats.clicks.bot).toBe(counted.length);
    } finally {
      await check.close();
    }
  }, 120_000);

  it('brings an event made on one worker to a stream held by the other, and shows settings changed on either', async () => {
    const { env } = await prepare(1);
    const server = await startChildServer({ ...env, CLICKTRAIL_WORKERS: '2' });
    children.push(server);
    const base = `http://127.0.0.1:${server.port}`;

    const admin = { authorization: `Bearer ${ENV.CLICKTRAIL_ADMIN_TOKEN}` };
    const stream = sseReader(await fetch(`${base}/api/stream`, { headers: admin }));
    for (let i = 0; i < 6; i++) expect((await call(server.port, 'PATCH', '/api/settings', admin, { messengerIntro: `Intro ${i}` })).status).toBe(200);
    // Every worker reads the last change within a second.
    await new Promise((r) => setTimeout(r, 1_100));
    for (let i = 0; i < 4; i++) {
      expect((JSON.parse((await call(server.port, 'GET', '/api/settings', admin)).body) as { messengerIntro: string }).messengerIntro).toBe('Intro 5');
    }

    // Visitors start conversations, each on a connection of its own: some land on the other worker.
    const site = { origin: ENV.CLICKTRAIL_PUBLIC_URL };
    for (let i = 0; i < 6; i++) {
      // The cluster hands connections out in turn: one more request every other time, so the
      // conversations land on both workers, whichever holds the stream.
      if (i % 2 === 1) await call(server.port, 'GET', '/api/health', admin);
      const booted = JSON.parse((await call(server.port, 'POST', '/messenger/boot', site, { url: `${ENV.CLICKTRAIL_PUBLIC_URL}/demo` })).body) as { session: { id: number; secret: string } };
      const auth = { ...site, authorization: `Bearer ${booted.session.id}.${booted.session.secret}` };
      expect((await call(server.port, 'POST', '/messenger/conversations', auth, { body: `Question ${i}`, clientId: `question-number-${i}` })).status).toBe(201);
    }
    const created: string[] = [];
    while (created.length < 6) {
      const e = await stream.next(10_000);
      if (e.event === 'conversation.created') created.push((JSON.parse(e.data) as { conversation: { lastMessage: string } }).conversation.lastMessage);
    }
    expect(created.sort()).toEqual(['Question 0', 'Question 1', 'Question 2', 'Question 3', 'Question 4', 'Question 5']);
  }, 60_000);
});
