import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, tempDir, testServer, type TestServer } from '../support/server.ts';
import { sql } from '../support/sql.ts';
import { hit, sendMessage } from '../support/tracking.ts';

const dirs: string[] = [];
const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  dirs.splice(0).forEach(removeDir);
});

/** Two nodes on one database: each its own data folder (journal, node id), the same secrets. */
function twoNodes(): [TestServer, TestServer] {
  const shared = tempDir();
  dirs.push(shared);
  const node = (name: string) => {
    const dataDir = join(shared, name);
    const s = testServer({ CLICKTRAIL_DB: join(shared, 'clicktrail.db'), CLICKTRAIL_DATA_DIR: dataDir, CLICKTRAIL_SECRET: 'shared-secret', CLICKTRAIL_ADMIN_TOKEN: 'shared-token' }, dataDir);
    servers.push(s);
    return s;
  };
  return [node('a'), node('b')];
}

const verdicts = (s: TestServer) =>
  sql(s, 'SELECT l.url, c.bot_reason AS bot, c.suspect_reason AS suspect FROM clicks c JOIN links l ON l.id = c.link_id ORDER BY c.id');

/**
 * A hit, then its node's writer done: hits a second apart, as a scanner's are, are each in the
 * database before the next (on PostgreSQL a commit can otherwise still be on its way when the
 * other node's writer looks, and two writers committing at once see neither's hits).
 */
async function hitOn(s: TestServer, url: string, init?: Parameters<typeof hit>[2]) {
  const response = await hit(s, url, init);
  await s.ctx.tracking.settle();
  return response;
}

const HTML = '<a href="https://www.shop.test/1">1</a><a href="https://www.shop.test/2">2</a><a href="https://www.shop.test/3">3</a>';

describe('a recipient whose hits land on two nodes', () => {
  it('is judged on both nodes’ hits: the honeypot on one takes back a click on the other, before it or after', async () => {
    const [a, b] = twoNodes();
    expect(a.ctx.config.nodeId).not.toBe(b.ctx.config.nodeId);
    const sent = await sendMessage(a, HTML, [{ email: 'michelle@shop.test' }]);
    const copy = sent.copies.get('michelle@shop.test')!;
    expect((await hitOn(a, copy.links[0]!)).status).toBe(302);
    expect((await hitOn(b, copy.honeypot)).status).toBe(302);
    // Node a never saw the honeypot hit: its own memory takes the next click for a person's.
    expect((await hitOn(a, copy.links[1]!)).status).toBe(302);
    expect(await verdicts(a)).toEqual([
      { url: 'https://www.shop.test/1', bot: 'honeypot', suspect: null },
      { url: '', bot: 'honeypot', suspect: null },
      { url: 'https://www.shop.test/2', bot: 'honeypot', suspect: null },
    ]);
    const stats = (await (await b.api('GET', `/api/messages/${sent.id}/stats`)).json()) as { clicks: object };
    expect(stats.clicks).toEqual({ total: 0, unique: 0, bot: 3, suspect: 0 });
  });

  it('sees every link of the mail within a minute over both nodes: the click that completes it is suspect', async () => {
    const [a, b] = twoNodes();
    const sent = await sendMessage(a, HTML, [{ email: 'michelle@shop.test' }]);
    const copy = sent.copies.get('michelle@shop.test')!;
    await hitOn(a, copy.links[0]!);
    await hitOn(b, copy.links[1]!);
    await hitOn(a, copy.links[2]!);
    // Read on b, written by a: a's writer first (on PostgreSQL its commit may still be on its way).
    await a.ctx.tracking.settle();
    expect((await verdicts(b)).map((v) => (v as { suspect: string | null }).suspect)).toEqual([null, null, 'burst']);
  });

  it('takes the completing click for a machine’s when it gave a second signal, as one node would', async () => {
    const [a, b] = twoNodes();
    const sent = await sendMessage(a, HTML, [{ email: 'michelle@shop.test' }]);
    const copy = sent.copies.get('michelle@shop.test')!;
    const scanner = { headers: { 'accept-language': '' } };
    await hitOn(a, copy.links[0]!, scanner);
    await hitOn(b, copy.links[1]!, scanner);
    await hitOn(a, copy.links[2]!, scanner);
    await a.ctx.tracking.settle();
    expect((await verdicts(b)).map((v) => (v as { bot: string | null }).bot)).toEqual([null, null, 'burst']);
  });
});
