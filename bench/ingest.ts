import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgStore } from '../server/store/postgres/store.ts';
import { SqliteStore } from '../server/store/sqlite/store.ts';
import type { Store, TrackingWrite } from '../server/store/store.ts';
import { databaseUrl, postgresBin, psql, startCluster } from '../test/support/postgres.ts';

const RECIPIENTS = 20_000;
const SECONDS = 3;
const BATCHES = [500, 5000];
const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';

/** A sent message with two links and its recipients, made through the store as the API makes them. */
async function seed(store: Store): Promise<{ messageId: number; linkIds: number[]; recipientIds: number[] }> {
  const m = await store.createMessage({
    subject: 'Bench',
    html: 'x',
    text: null,
    channel: 'email',
    goal: null,
    audience: null,
    push: null,
    compiled: {
      links: [0, 1].map((i) => ({ position: i, url: `https://www.shop.test/p${i}`, text: `p${i}`, tracked: true, part: 'html' as const })),
      html: ['x'],
      text: null,
    },
  });
  for (let i = 0; i < RECIPIENTS; i += 5000) {
    await store.addRecipients(m.id, Array.from({ length: 5000 }, (_, j) => ({ email: `p${i + j}@shop.test` })));
  }
  const recipientIds = (await store.claimUnsent(m.id, 'bench')).claimed.map((r) => r.id);
  for (const id of recipientIds.slice(0, 100)) await store.recordDelivery(id, { ok: true, at: Date.now() - 3_600_000 });
  return { messageId: m.id, linkIds: m.links.map((l) => l.id), recipientIds };
}

/** Clicks a second the store commits, in batches as the journal's ingester makes them, its counters included. */
export async function capacity(store: Store, batchSize: number): Promise<number> {
  const { messageId, linkIds, recipientIds } = await seed(store);
  let written = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    const batch: TrackingWrite[] = Array.from({ length: batchSize }, (_, i) => ({
      kind: 'click',
      linkId: linkIds[(written + i) % 2]!,
      recipientId: recipientIds[(written + i) % recipientIds.length]!,
      messageId,
      at: Date.now(),
      botReason: null,
      ip: '127.0.0.0/24',
      userAgent: UA,
    }));
    await store.commit(batch);
    written += batch.length;
  }
  return written / ((performance.now() - t0) / 1000);
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'clicktrail-bench-ingest-'));
  try {
    console.log(`click ingest: the store's commit of journal batches (clicks and their counters), ${SECONDS} s each`);
    for (const size of BATCHES) {
      const store = new SqliteStore(join(dir, `ct-${size}.db`), { busyTimeoutMs: 0 });
      console.log(`  SQLite (WAL, a file in ${tmpdir()}), batches of ${size}: ${Math.round(await capacity(store, size))} clicks/s`);
      await store.close();
    }
    let pg: Awaited<ReturnType<typeof startCluster>> | null = null;
    try {
      postgresBin();
      pg = await startCluster({ durable: true });
    } catch (err) {
      console.log(`  PostgreSQL: not measured (${(err as Error).message})`);
    }
    if (pg) {
      try {
        for (const size of BATCHES) {
          psql(pg.cluster, `CREATE DATABASE bench_${size}`);
          const store = new PgStore(databaseUrl(pg.cluster, `bench_${size}`));
          console.log(`  PostgreSQL (local, fsync on), batches of ${size}: ${Math.round(await capacity(store, size))} clicks/s`);
          await store.close();
        }
      } finally {
        pg.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
