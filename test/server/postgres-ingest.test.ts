import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PgStore } from '../../server/store/postgres/store.ts';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import type { JournalPosition, Store, TrackingWrite } from '../../server/store/store.ts';
import { testCluster, testDatabaseFor } from '../support/postgres.ts';
import { removeDir, tempDir } from '../support/server.ts';
import { sqlValue } from '../support/sql.ts';
import { messageWithLinks } from '../support/store-message.ts';

// How fast one node folds its journal into PostgreSQL: batches of 2,000 hits, as the writer
// commits them under load, with every counter. The SQLite store takes the same batches in
// the same run, for scale.

const CLICKS = 60_000;
const BATCH = 2_000;
const RECIPIENTS = 10_000;

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  dirs.splice(0).forEach(removeDir);
});

async function seed(store: Store) {
  const m = await messageWithLinks(store, [0, 1, 2, 3, 4].map((i) => `https://x.test/${i}`));
  await store.addRecipients(m.id, Array.from({ length: RECIPIENTS }, (_, i) => ({ email: `p${i}@shop.test`, name: `Person ${i}` })));
  return { messageId: m.id, links: m.links.map((l) => l.id) };
}

/** Clicks as a busy hour brings them: mostly people, one in five a scanner's, now and then an open. */
function hits(ids: { messageId: number; links: number[] }, firstRecipient: number): TrackingWrite[] {
  const out: TrackingWrite[] = [];
  let at = 1_700_000_000_000;
  for (let i = 0; i < CLICKS; i++) {
    at += 3;
    const recipientId = firstRecipient + ((i * 7_919) % RECIPIENTS);
    const base = { recipientId, messageId: ids.messageId, at, ip: '192.0.2.0/24', userAgent: `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15 n/${i}` };
    if (i % 10 === 9) out.push({ kind: 'open', ...base, botReason: null });
    else out.push({ kind: 'click', linkId: ids.links[i % ids.links.length]!, ...base, botReason: i % 5 === 0 ? ('bot-ua' as never) : null });
  }
  return out;
}

async function fold(store: Store, writes: TrackingWrite[], node: string): Promise<number> {
  let from: JournalPosition | null = null;
  const t0 = performance.now();
  for (let i = 0; i < writes.length; i += BATCH) {
    const to = { segment: 1, offset: i + BATCH };
    await store.commit(writes.slice(i, i + BATCH), { node, from, to });
    from = to;
  }
  return writes.length / ((performance.now() - t0) / 1000);
}

describe('the click ingest on PostgreSQL', () => {
  it(`folds ${CLICKS.toLocaleString('en')} hits in batches of ${BATCH.toLocaleString('en')}, alone and beside another node`, async () => {
    const dir = tempDir();
    dirs.push(dir);
    const lite = new SqliteStore(join(dir, 'ct.db'));
    const pg = new PgStore(testDatabaseFor(join(dir, 'ct.db'), testCluster()));
    stores.push(lite, pg);
    const [liteIds, pgIds] = [await seed(lite), await seed(pg)];
    const firstRecipient = (await pg.findRecipient(pgIds.messageId, 'p0@shop.test'))!.id;

    const sqlitePerSecond = await fold(lite, hits(liteIds, (await lite.findRecipient(liteIds.messageId, 'p0@shop.test'))!.id), 'n');
    const alone = await fold(pg, hits(pgIds, firstRecipient), 'n');
    // Another node writes into the database too: every click is judged again on both nodes' hits, under the recipients' locks.
    const shared = await fold(pg, hits(pgIds, firstRecipient), 'other');
    console.log(
      `[figures] clicks/s committed by one node in batches of ${BATCH}: PostgreSQL ${Math.round(alone).toLocaleString('en')} alone, ` +
        `${Math.round(shared).toLocaleString('en')} beside another node (shared verdicts); SQLite ${Math.round(sqlitePerSecond).toLocaleString('en')}`,
    );
    expect(await sqlValue(pg, 'SELECT count(*) FROM clicks')).toBe((CLICKS * 9) / 5);
    expect(await sqlValue(pg, 'SELECT sum(clicks_total + clicks_bot) FROM message_counts')).toBe((CLICKS * 9) / 5);
  }, 120_000);

  it('folds a backlog naming more recipients than the lock table holds, beside another node', async () => {
    // Found by measuring: with a lock per recipient, a backlog's batch naming more recipients
    // than PostgreSQL's lock table holds (64 × 420 here, and some spare: 90,000 overflow it)
    // failed with "out of shared memory" on every try, so its journal grew for good. Past
    // MAX_RECIPIENT_LOCKS a batch takes one lock over them all.
    const many = 90_000;
    const dir = tempDir();
    dirs.push(dir);
    const pg = new PgStore(testDatabaseFor(join(dir, 'ct.db'), testCluster()));
    stores.push(pg);
    const m = await messageWithLinks(pg, ['https://x.test/']);
    for (let i = 0; i < many; i += 10_000) {
      await pg.addRecipients(m.id, Array.from({ length: 10_000 }, (_, j) => ({ email: `p${i + j}@shop.test` })));
    }
    const first = (await pg.findRecipient(m.id, 'p0@shop.test'))!.id;
    // Another node writes into this database: its batches and this one must take turns.
    await pg.commit([], { node: 'other', from: null, to: { segment: 1, offset: 0 } });
    const batch: TrackingWrite[] = Array.from({ length: many }, (_, i) => ({
      kind: 'click',
      linkId: m.links[0]!.id,
      recipientId: first + i,
      messageId: m.id,
      at: 1_700_000_000_000 + i,
      botReason: null,
      ip: null,
      userAgent: null,
    }));
    await pg.commit(batch, { node: 'n', from: null, to: { segment: 1, offset: many } });
    expect(await sqlValue(pg, 'SELECT count(*) FROM clicks')).toBe(many);
    expect(await sqlValue(pg, 'SELECT clicks_unique FROM message_counts WHERE message_id = ?', m.id)).toBe(many);
  }, 120_000);
});
