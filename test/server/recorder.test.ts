import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../server/store/sqlite.ts';
import { Recorder } from '../../server/tracking/recorder.ts';
import { SqliteTrackingStore } from '../../server/tracking/sqlite-store.ts';
import type { TrackingWrite } from '../../server/tracking/store.ts';
import { removeDir, tempDir } from '../support/server.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

/** The real SQLite click store, reached through a link that takes `delayMs` (a database under load, far away). */
class SlowStore extends SqliteTrackingStore {
  batches: number[] = [];
  constructor(path: string, private readonly delayMs: number) {
    super(path);
  }
  override async write(batch: TrackingWrite[]): Promise<void> {
    this.batches.push(batch.length);
    await new Promise((r) => setTimeout(r, this.delayMs));
    await super.write(batch);
  }
}

async function setup(delayMs: number) {
  const dir = tempDir();
  dirs.push(dir);
  const path = join(dir, 'ct.db');
  const core = new SqliteStore(path);
  const m = await core.createMessage({
    subject: 's',
    html: 'x',
    text: null,
    channel: 'email',
    goal: null,
    compiled: { links: [{ position: 0, url: 'https://x.test/', text: 'x', tracked: true, part: 'html' }], html: ['x'], text: null },
  });
  await core.addRecipients(m.id, [{ email: 'a@shop.test' }]);
  const recipient = (await core.findRecipient(m.id, 'a@shop.test'))!;
  const store = new SlowStore(path, delayMs);
  const click = (at: number): TrackingWrite => ({
    kind: 'click',
    linkId: m.links[0]!.id,
    recipientId: recipient.id,
    messageId: m.id,
    at,
    botReason: null,
    ip: null,
    userAgent: 'ua',
  });
  return { core, store, click, count: () => (core.db.prepare('SELECT count(*) AS n FROM clicks').get() as { n: number }).n };
}

describe('the group-commit recorder', () => {
  it('writes hits queued together in one batch, and answers once they are durable', async () => {
    const { core, store, click, count } = await setup(0);
    const recorder = new Recorder(store);
    await Promise.all(Array.from({ length: 300 }, (_, i) => recorder.record(click(i))));
    expect(store.batches).toEqual([300]);
    expect(count()).toBe(300);
    await store.close();
    await core.close();
  });

  it('answers after the bound when the store is slow, keeping the hits until they are written', async () => {
    const { core, store, click, count } = await setup(400);
    const recorder = new Recorder(store, { waitBoundMs: 50 });
    let answered = false;
    const pending = recorder.record(click(1)).then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 200));
    // Answered by the bound, not by the commit: the hit is still on its way.
    expect(answered).toBe(true);
    expect(count()).toBe(0);
    expect(recorder.queued).toBe(1);
    await pending;
    expect(await recorder.drain()).toBe(true);
    expect(count()).toBe(1);
    expect(recorder.written).toBe(1);
    await store.close();
    await core.close();
  });

  it('holds at most maxQueued hits while the store is down, counting what it had to drop', async () => {
    const { core, store, click, count } = await setup(0);
    const recorder = new Recorder(store, { maxQueued: 10, retryMs: 20 });
    core.db.exec('BEGIN EXCLUSIVE');
    for (let i = 0; i < 15; i++) await recorder.record(click(i));
    expect(recorder.queued).toBe(10);
    expect(recorder.dropped).toBe(5);
    core.db.exec('ROLLBACK');
    expect(await recorder.drain()).toBe(true);
    expect(count()).toBe(10);
    await store.close();
    await core.close();
  });
});
