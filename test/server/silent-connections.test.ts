import { readdirSync, readlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SILENT_MS } from '../../server/http/connections.ts';
import { startChildServer, type ChildServer } from '../support/child-server.ts';
import { removeDir, testServer } from '../support/server.ts';
import { sqlRow } from '../support/sql.ts';
import { BROWSER_UA, sentInFreshFolder } from '../support/tracking.ts';

const dirs: string[] = [];
const children: ChildServer[] = [];
const sockets: Socket[] = [];
afterEach(() => {
  sockets.splice(0).forEach((s) => s.destroy());
  for (const c of children.splice(0)) c.child.kill('SIGKILL');
  dirs.splice(0).forEach(removeDir);
});

describe('silent connections', () => {
  it('cannot take the server offline: 2,000 of them against 1,024 open files, and clicks are still answered and recorded', async () => {
    const { dir, env, sent } = await sentInFreshFolder('<a href="https://www.shop.test/a">a</a>', [{ email: 'a@shop.test' }]);
    dirs.push(dir);
    const link = sent.copies.get('a@shop.test')!.links[0]!;

    const server = await startChildServer(env, { openFiles: 1024 });
    children.push(server);
    // Found by the audit: ~980 sockets that never send a byte took the server offline for good.
    let closedByServer = 0;
    await Promise.all(
      Array.from(
        { length: 2_000 },
        () =>
          new Promise<void>((resolve) => {
            const socket = connect(server.port, '127.0.0.1', () => resolve());
            socket.on('error', () => resolve());
            socket.on('close', () => closedByServer++);
            sockets.push(socket);
          }),
      ),
    );
    const clicked = Date.now();
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`http://127.0.0.1:${server.port}${link}`, { headers: { 'user-agent': BROWSER_UA }, redirect: 'manual' });
      expect(res.status).toBe(302);
    }
    const health = await fetch(`http://127.0.0.1:${server.port}/api/health`, { headers: { authorization: 'Bearer test-admin-token' } });
    expect(health.status).toBe(200);
    // The longest-idle sockets made room for the clicks; nobody waited for them to time out.
    expect(Date.now() - clicked).toBeLessThan(SILENT_MS);
    // (Some of ours still wait in the kernel's accept queue, so not all 976 over the cap are closed yet.)
    expect(closedByServer).toBeGreaterThan(0);

    // And the silent ones left are closed SILENT_MS after the server took them up. Counted
    // on the server's side: a socket whose handshake the kernel never finished (the accept
    // queue was full) looks open from here but holds nothing there.
    const serverSockets = () => readdirSync(`/proc/${server.child.pid}/fd`).filter((fd) => {
      try {
        return readlinkSync(`/proc/${server.child.pid}/fd/${fd}`).startsWith('socket:');
      } catch {
        return false; // closed while we looked
      }
    }).length;
    expect(serverSockets()).toBeGreaterThan(500);
    for (let waited = 0; serverSockets() > 20 && waited < 3 * SILENT_MS; waited += 500) await new Promise((r) => setTimeout(r, 500));
    expect(serverSockets()).toBeLessThanOrEqual(20);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).not.toMatch(/EMFILE/);
    const check = testServer(env, dir);
    expect(await sqlRow(check, 'SELECT count(*) AS n FROM clicks')).toEqual({ n: 50 });
    await check.close();
  }, 60_000);
});
