import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageCreated } from '../../api/types.ts';
import { loadConfig } from '../../server/config/config.ts';
import { adminApi } from '../support/admin-api.ts';
import { startChildServer, type ChildServer } from '../support/child-server.ts';
import { removeDir, tempDir, testServer, type TestServer } from '../support/server.ts';
import { startSmtp } from '../support/smtp.ts';
import { sql, sqlAt } from '../support/sql.ts';

const dirs: string[] = [];
const servers: TestServer[] = [];
const children: ChildServer[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.child.kill('SIGKILL');
  for (const s of servers.splice(0)) await s.close();
  for (const close of closers.splice(0)) await close();
  dirs.splice(0).forEach(removeDir);
});

const TOKEN = 'shared-token';

/** One database in `shared`; each node its own data folder (journal, node id), the same secrets. */
function nodeEnv(shared: string, node: string, more: Record<string, string> = {}): Record<string, string> {
  return {
    CLICKTRAIL_DB: join(shared, 'clicktrail.db'),
    CLICKTRAIL_DATA_DIR: join(shared, node),
    CLICKTRAIL_SECRET: 'shared-secret',
    CLICKTRAIL_ADMIN_TOKEN: TOKEN,
    CLICKTRAIL_PUBLIC_URL: 'http://links.shop.test',
    ...more,
  };
}

function node(shared: string, name: string, more: Record<string, string> = {}): TestServer {
  const s = testServer(nodeEnv(shared, name, more), join(shared, name));
  servers.push(s);
  return s;
}

type Claim = { email: string; status: string; node: string | null };

describe('the claims of a send, with two nodes on one database', () => {
  it('are left alone by the other node’s start, and given back by their own node’s next start after a crash: everyone mailed once', async () => {
    const shared = tempDir();
    dirs.push(shared);
    // Mails wait at the SMTP server, unanswered, until the send after the crash: the first run's are never accepted.
    let accepting = false;
    const smtp = await startSmtp({ hold: () => (accepting ? Promise.resolve() : new Promise<void>(() => {})) });
    closers.push(smtp.close);
    const envA = nodeEnv(shared, 'a', { CLICKTRAIL_SMTP_URL: smtp.url });

    let a = await startChildServer(envA);
    children.push(a);
    const api = adminApi(() => `http://127.0.0.1:${a.port}`, TOKEN);
    const { id } = await api<MessageCreated>('POST', '/api/messages', { subject: 'Beans', html: '<p>Hi</p><a href="https://www.shop.test/beans">Beans</a>' });
    const people = Array.from({ length: 6 }, (_, i) => `p${i}@shop.test`);
    await api('POST', `/api/messages/${id}/recipients`, { recipients: people.map((email) => ({ email })) });
    void api('POST', `/api/messages/${id}/send`).catch(() => {}); // answered never: the node is killed mid-send
    const claims = () => sqlAt<Claim>(envA, 'SELECT email, status, claimed_by AS node FROM recipients WHERE message_id = ? ORDER BY id', id);
    const aNode = loadConfig(envA).nodeId;
    const claimedByA = people.map((email) => ({ email, status: 'sending', node: aNode }));
    await expect.poll(claims, { timeout: 10_000 }).toEqual(claimedByA);

    // Node b starts while a's send is under way, giving back the claims it has to give back as it opens.
    const b = node(shared, 'b', { CLICKTRAIL_SMTP_URL: smtp.url });
    expect(b.ctx.config.nodeId).not.toBe(aNode);
    expect(b.ctx.config.releasesClaimsOf.unnamed).toBe(true);
    expect(((await (await b.api('GET', `/api/messages/${id}`)).json()) as { delivery: object }).delivery).toMatchObject({ pending: 6, sent: 0 });
    expect(await claims()).toEqual(claimedByA);
    // And a send through b finds nobody to mail: they are all a's to send.
    expect(await (await b.api('POST', `/api/messages/${id}/send`)).json()).toMatchObject({ sent: 0, failed: 0 });
    expect(await claims()).toEqual(claimedByA);

    a.child.kill('SIGKILL');
    await a.exited;
    expect(await claims()).toEqual(claimedByA);

    // a again, on its own data folder: its node's claims are its to give back.
    accepting = true;
    a = await startChildServer(envA);
    children.push(a);
    expect(await api<{ delivery: object }>('GET', `/api/messages/${id}`)).toMatchObject({ delivery: { pending: 6, sent: 0 } });
    expect((await claims()).map((c) => c.status)).toEqual(people.map(() => 'pending'));
    expect(await api('POST', `/api/messages/${id}/send`)).toMatchObject({ sent: 6, failed: 0 });
    expect(await (await b.api('POST', `/api/messages/${id}/send`)).json()).toMatchObject({ sent: 0, failed: 0 });
    expect(smtp.received.flatMap((m) => m.to).sort()).toEqual([...people].sort());
  }, 60_000);

  it('of a machine’s workers: each gives back its own as it starts; worker 1 also those of workers no longer run and those made before claims were named', async () => {
    const shared = tempDir();
    dirs.push(shared);
    const other = node(shared, 'other-machine');
    // This machine ran 3 workers once and runs 2 now: worker-3/ and its node id stay in its data folder.
    const machine = (index: number, workers: number) => nodeEnv(shared, 'machine', { CLICKTRAIL_WORKERS: String(workers), CLICKTRAIL_WORKER_INDEX: String(index) });
    const retired = loadConfig(machine(3, 3)).nodeId;
    const [w1, w2] = [1, 2].map((i) => loadConfig(machine(i, 2)).nodeId);

    const { id } = (await (await other.api('POST', '/api/messages', { subject: 'Beans', html: '<a href="https://www.shop.test/beans">Beans</a>' })).json()) as MessageCreated;
    const who = { other: other.ctx.config.nodeId, w1, w2, retired, unnamed: null };
    const emails = Object.keys(who).map((k) => `${k}@shop.test`);
    await other.api('POST', `/api/messages/${id}/recipients`, { recipients: emails.map((email) => ({ email })) });
    // As sends cut short by crashes left them: each recipient claimed by one node (or by a release before claims named theirs).
    for (const [k, claimant] of Object.entries(who)) {
      await sql(other, `UPDATE recipients SET status = 'sending', claimed_by = ? WHERE message_id = ? AND email = ?`, claimant, id, `${k}@shop.test`);
    }
    const sending = async () =>
      (await sql<{ email: string }>(other, `SELECT email FROM recipients WHERE message_id = ? AND status = 'sending' ORDER BY id`, id)).map((r) => r.email.split('@')[0]);

    // Worker 2 starts (first, or again after a crash): its own only; the others may be sending.
    const second = node(shared, 'machine', { CLICKTRAIL_WORKERS: '2', CLICKTRAIL_WORKER_INDEX: '2' });
    expect(second.ctx.config.nodeId).toBe(w2);
    await second.api('GET', `/api/messages/${id}`);
    expect(await sending()).toEqual(['other', 'w1', 'retired', 'unnamed']);

    const first = node(shared, 'machine', { CLICKTRAIL_WORKERS: '2', CLICKTRAIL_WORKER_INDEX: '1' });
    expect(first.ctx.config.releasesClaimsOf).toEqual({ nodes: [w1, retired], unnamed: true });
    await first.api('GET', `/api/messages/${id}`);
    expect(await sending()).toEqual(['other']);
  });
});
