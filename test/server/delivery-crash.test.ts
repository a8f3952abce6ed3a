import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { adminApi } from '../support/admin-api.ts';
import { startChildServer, type ChildServer } from '../support/child-server.ts';
import { removeDir, tempDir } from '../support/server.ts';

const dirs: string[] = [];
const children: ChildServer[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.child.kill('SIGKILL');
  dirs.splice(0).forEach(removeDir);
});

const RECIPIENTS = 3_000;

describe('a send killed mid-way', () => {
  it('leaves whole outbox files only, and the next send mails nobody twice', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const outbox = join(dir, 'outbox');
    const env = {
      CLICKTRAIL_DB: join(dir, 'clicktrail.db'),
      CLICKTRAIL_OUTBOX: outbox,
      CLICKTRAIL_ADMIN_TOKEN: 'test-admin-token',
      CLICKTRAIL_SECRET: 'test-secret',
      CLICKTRAIL_PUBLIC_URL: 'http://links.shop.test',
    };
    let server = await startChildServer(env);
    children.push(server);
    const api = adminApi(() => `http://127.0.0.1:${server.port}`, env.CLICKTRAIL_ADMIN_TOKEN);
    const { id } = await api<{ id: number }>('POST', '/api/messages', {
      subject: 'Beans for {{first_name}}',
      html: `<p>Hi {{first_name}}</p>${'<p>A long paragraph about beans, to make each mail a few kilobytes.</p>'.repeat(40)}<a href="https://www.shop.test/beans">Beans</a>`,
    });
    const people = Array.from({ length: RECIPIENTS }, (_, i) => ({ email: `p${i}@shop.test`, name: `Person ${i}` }));
    await api('POST', `/api/messages/${id}/recipients`, { recipients: people });

    // Killed while the outbox fills: some mails are written, some half-written, most not yet.
    void api('POST', `/api/messages/${id}/send`).catch(() => {});
    const eml = () => readdirSync(outbox).filter((f) => f.endsWith('.eml'));
    const written = () => {
      try {
        return eml().length;
      } catch {
        return 0; // the outbox folder is made by the first mail
      }
    };
    while (written() < 200) await new Promise((r) => setTimeout(r, 5));
    server.child.kill('SIGKILL');
    await server.exited;
    const before = new Map(eml().map((f) => [f, statSync(join(outbox, f)).mtimeMs]));
    expect(before.size).toBeLessThan(RECIPIENTS);

    server = await startChildServer(env);
    children.push(server);
    const result = await api<{ sent: number; failed: number }>('POST', `/api/messages/${id}/send`);
    expect(result.failed).toBe(0);
    // The ones in flight at the kill are sent again; the ones already recorded as sent are not.
    expect(result.sent).toBeLessThan(RECIPIENTS);
    expect(result.sent).toBeGreaterThanOrEqual(RECIPIENTS - before.size);
    // A mail whose file was whole before the kill was not written (mailed) again.
    for (const [file, mtime] of before) expect(statSync(join(outbox, file)).mtimeMs, file).toBe(mtime);

    const files = eml();
    expect(files).toHaveLength(RECIPIENTS);
    const ids = new Set<string>();
    for (const file of files) {
      const mail = await simpleParser(readFileSync(join(outbox, file)));
      // Whole: the open pixel is the last thing in the HTML part.
      expect(mail.html, file).toMatch(/<img src="http:\/\/links\.shop\.test\/o\/[^"]+"[^>]*>\s*$/);
      expect(mail.messageId, file).toMatch(new RegExp(`^<clicktrail\\.${id}\\.\\d+\\.[0-9a-z]+@links\\.shop\\.test>$`));
      ids.add(mail.messageId!);
    }
    expect(ids.size).toBe(RECIPIENTS);
    const messages = await api<{ id: number; sent: number }[]>('GET', '/api/messages');
    expect(messages.find((m) => m.id === id)?.sent).toBe(RECIPIENTS);
  }, 120_000);
});
