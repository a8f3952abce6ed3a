import { createServer, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { removeDir, tempDir, testServer, type TestServer } from '../support/server.ts';
import { sql, sqlRow } from '../support/sql.ts';
import { boot, SITE, widgetCall } from '../widget/support.ts';

const dirs: string[] = [];
const servers: TestServer[] = [];
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const close of closers.splice(0)) close();
  dirs.splice(0).forEach(removeDir);
});

/** Short enough for a takeover within a test; renewed every third of it. */
const LEASE_MS = 2_000;
const TAKEOVER = { timeout: 15_000 };

/** A webhook receiver: the delivery id of every request, in the order they came; `holdNext` leaves the next one unanswered. */
async function receiver() {
  const ids: number[] = [];
  const held: ServerResponse[] = [];
  let holdNext = false;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      ids.push(Number(req.headers['x-clicktrail-delivery']));
      if (holdNext) {
        holdNext = false;
        held.push(res);
      } else res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
    ids,
    holdNext: () => (holdNext = true),
  };
}

/** Two nodes on one database, a webhook set: each its own data folder and node id, the same secrets, the lease shortened. */
async function twoNodes(url: string): Promise<[TestServer, TestServer]> {
  const shared = tempDir();
  dirs.push(shared);
  const node = (name: string) => {
    const dataDir = join(shared, name);
    const env = { CLICKTRAIL_DB: join(shared, 'clicktrail.db'), CLICKTRAIL_DATA_DIR: dataDir, CLICKTRAIL_SECRET: 'shared-secret', CLICKTRAIL_ADMIN_TOKEN: 'shared-token' };
    const s = testServer(env, dataDir, { webhookLeaseMs: LEASE_MS });
    servers.push(s);
    return s;
  };
  const a = node('a');
  expect((await a.api('PATCH', '/api/settings', { webhookUrl: url, allowedOrigins: [SITE] })).status).toBe(200);
  // Started after the change: its settings are read fresh.
  return [a, node('b')];
}

let asked = 0;
/** A visitor starts a conversation on the node: one team event, made there. */
async function converse(s: TestServer): Promise<void> {
  const { session } = await boot(s);
  const n = ++asked;
  const res = await widgetCall(s, 'POST', '/messenger/conversations', { session, body: { body: `Question ${n}`, clientId: `question-${String(n).padStart(6, '0')}` } });
  expect(res.status).toBe(201);
}

const eventIds = async (s: TestServer) => (await sql<{ id: number }>(s, 'SELECT id FROM team_events ORDER BY id')).map((e) => e.id);
const holder = async (s: TestServer) => (await sqlRow<{ holder: string | null; through: number }>(s, 'SELECT holder, delivered_through AS through FROM webhook_cursor'))!;

/** The node holding the lease, then the other. */
async function byRole([a, b]: [TestServer, TestServer]): Promise<[TestServer, TestServer]> {
  const { holder: id } = await holder(a);
  expect([a.ctx.config.nodeId, b.ctx.config.nodeId]).toContain(id);
  return id === a.ctx.config.nodeId ? [a, b] : [b, a];
}

function close(s: TestServer): Promise<void> {
  servers.splice(servers.indexOf(s), 1);
  return s.close();
}

describe('webhooks from two nodes on one database', () => {
  it('deliver every event once and in order, whichever node made it; when the holder stops, the other delivers the rest', async () => {
    const hook = await receiver();
    const nodes = await twoNodes(hook.url);
    for (let i = 0; i < 6; i++) await converse(nodes[i % 2]!);
    const made = await eventIds(nodes[0]);
    expect(made).toHaveLength(6);
    await expect.poll(() => hook.ids.length, TAKEOVER).toBe(6);
    expect(hook.ids).toEqual(made);

    // An event the other node makes reaches the holder (by a wake-up, or its next look), and is in flight there when it stops.
    const [holding, other] = await byRole(nodes);
    hook.holdNext();
    await converse(other);
    await expect.poll(() => hook.ids.length, TAKEOVER).toBe(7);
    await close(holding);
    await converse(other);
    await converse(other);
    const all = await eventIds(other);
    expect(all).toHaveLength(9);
    await expect.poll(() => hook.ids.at(-1), TAKEOVER).toBe(all[8]);
    // Only the one in flight came twice: the cursor had not moved past it.
    expect(hook.ids).toEqual([...all.slice(0, 7), all[6], all[7], all[8]]);
    expect(await holder(other)).toEqual({ holder: other.ctx.config.nodeId, through: all[8] });
  });

  it('are taken over within the lease from a holder cut off from the database, nothing lost or repeated', async () => {
    const hook = await receiver();
    const nodes = await twoNodes(hook.url);
    await converse(nodes[0]);
    await converse(nodes[1]);
    await expect.poll(() => hook.ids.length, TAKEOVER).toBe(2);
    const [holding, other] = await byRole(nodes);

    // As if it hung or lost its network: it can neither renew its lease nor give it up.
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    closers.push(() => errors.mockRestore());
    await holding.ctx.store.close();
    for (let i = 0; i < 3; i++) await converse(other);
    const all = await eventIds(other);
    expect(all).toHaveLength(5);
    await expect.poll(() => hook.ids.length, TAKEOVER).toBe(5);
    expect(hook.ids).toEqual(all);
    expect(await holder(other)).toEqual({ holder: other.ctx.config.nodeId, through: all[4] });
  });
});
