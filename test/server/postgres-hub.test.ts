import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { WidgetConversation } from '../../api/types.ts';
import { removeDir, tempDir, testServer, type TestServer } from '../support/server.ts';
import { allowSite, boot, sseReader, widgetCall } from '../widget/support.ts';

const dirs: string[] = [];
const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  dirs.splice(0).forEach(removeDir);
});

describe('two servers on one PostgreSQL database', () => {
  it('bring an event made on one to a live stream held by the other, through NOTIFY', async () => {
    const shared = tempDir();
    dirs.push(shared);
    const node = (name: string) => {
      const dataDir = join(shared, name);
      const s = testServer({ CLICKTRAIL_DB: join(shared, 'clicktrail.db'), CLICKTRAIL_DATA_DIR: dataDir, CLICKTRAIL_SECRET: 'shared-secret', CLICKTRAIL_ADMIN_TOKEN: 'shared-token' }, dataDir);
      servers.push(s);
      return s;
    };
    const [a, b] = [node('a'), node('b')];
    expect(a.ctx.config.database.kind).toBe('postgres');
    await allowSite(a);

    const stream = sseReader(await b.api('GET', '/api/stream'));
    // LISTEN is under way as the server starts: give it a moment before the first NOTIFY.
    await new Promise((r) => setTimeout(r, 300));
    const { session } = await boot(a);
    const started = await widgetCall(a, 'POST', '/messenger/conversations', { session, body: { body: 'Made on a', clientId: 'made-on-node-a' } });
    expect(started.status).toBe(201);
    const { id } = (await started.json()) as WidgetConversation;

    // Well before the stream's 20 s keep-alive read: the wake-up came over the database.
    for (;;) {
      const e = await stream.next(5_000);
      if (e.event === 'conversation.created') {
        expect(JSON.parse(e.data)).toMatchObject({ conversation: { id, lastMessage: 'Made on a' } });
        break;
      }
    }
  });
});
