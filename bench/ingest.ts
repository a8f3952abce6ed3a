import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgStore } from '../server/store/postgres/store.ts';
import { SqliteStore } from '../server/store/sqlite/store.ts';
import type { JournalTarget, Store, TrackingWrite } from '../server/store/store.ts';
import { JournalIngester } from '../server/tracking/ingest.ts';
import { ClickJournal } from '../server/tracking/journal.ts';
import { databaseUrl, postgresBin, psql, startCluster } from '../test/support/postgres.ts';
import { messageWithLinks } from '../test/support/store-message.ts';

const RECIPIENTS = 20_000;
const SECONDS = 3;
const BATCHES = [500, 5000];
/** Clicks appended to a journal before its ingester is started: a backlog of a few seconds at the goal's rate. */
const BACKLOG = 200_000;
const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';
/**
 * The server settings that decide a durable commit's cost, and the lock table's size (each
 * batch takes an advisory lock per recipient it names: max_locks_per_transaction × about
 * max_connections of them fit), as the benchmark's server has them: read back, not assumed.
 */
const SETTINGS = ['fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', 'shared_buffers', 'wal_buffers', 'max_wal_size', 'checkpoint_timeout', 'max_connections', 'max_locks_per_transaction'];

interface Seeded {
  messageId: number;
  linkIds: number[];
  recipientIds: number[];
}

/** A sent message with two links and its recipients, made through the store as the API makes them. */
async function seed(store: Store): Promise<Seeded> {
  const m = await messageWithLinks(store, [0, 1].map((i) => `https://www.shop.test/p${i}`), 'Bench');
  for (let i = 0; i < RECIPIENTS; i += 5000) {
    await store.addRecipients(m.id, Array.from({ length: 5000 }, (_, j) => ({ email: `p${i + j}@shop.test` })));
  }
  const recipientIds = (await store.claimUnsent(m.id, 'bench')).claimed.map((r) => r.id);
  for (const id of recipientIds.slice(0, 100)) await store.recordDelivery(id, { ok: true, at: Date.now() - 3_600_000 });
  return { messageId: m.id, linkIds: m.links.map((l) => l.id), recipientIds };
}

/** The n-th click of the benchmark: every recipient in turn, on one of the two links. */
const click = ({ messageId, linkIds, recipientIds }: Seeded, n: number): TrackingWrite => ({
  kind: 'click',
  linkId: linkIds[n % 2]!,
  recipientId: recipientIds[n % recipientIds.length]!,
  messageId,
  at: Date.now(),
  botReason: null,
  ip: '127.0.0.0/24',
  userAgent: UA,
});

/** Clicks a second the store commits, in batches as the journal's ingester makes them, its counters included. */
async function capacity(store: Store, batchSize: number): Promise<number> {
  const seeded = await seed(store);
  let written = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    const batch = Array.from({ length: batchSize }, (_, i) => click(seeded, written + i));
    await store.commit(batch);
    written += batch.length;
  }
  return written / ((performance.now() - t0) / 1000);
}

/**
 * The path a click takes after its answer, as one node runs it: appended to the click journal
 * (BACKLOG of them), then folded into the store by the journal's ingester, in the transactions
 * it makes (as much of a segment as a read takes), with the journal position. Clicks a second
 * from the ingester's start until the journal is empty: a node whose clicks arrive slower than
 * this keeps its queue from growing.
 */
async function throughJournal(store: Store, dir: string): Promise<{ perSecond: number; transactions: number }> {
  const seeded = await seed(store);
  const journal = new ClickJournal(join(dir, 'journal'));
  for (let n = 0; n < BACKLOG; n++) void journal.append(click(seeded, n));
  journal.flush();
  let transactions = 0;
  const target: JournalTarget = {
    commit: (batch, move) => (transactions++, store.commit(batch, move)),
    commitEach: (batch, move, setAside) => store.commitEach(batch, move, setAside),
    journalPosition: (node) => store.journalPosition(node),
  };
  const ingester = new JournalIngester(target, journal.dir, journal.firstSegment, 'bench');
  const t0 = performance.now();
  await ingester.step();
  const perSecond = ingester.written / ((performance.now() - t0) / 1000);
  journal.close();
  if (ingester.written !== BACKLOG) throw new Error(`the ingester wrote ${ingester.written} of ${BACKLOG} clicks`);
  return { perSecond, transactions };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en');

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'clicktrail-bench-ingest-'));
  try {
    console.log(`click ingest: the store's commit of journal batches (clicks and their counters), ${SECONDS} s each`);
    for (const size of BATCHES) {
      const store = new SqliteStore(join(dir, `ct-${size}.db`), { busyTimeoutMs: 0 });
      console.log(`  SQLite (WAL, a file in ${tmpdir()}), batches of ${size}: ${fmt(await capacity(store, size))} clicks/s`);
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
          if (size === BATCHES[0]) {
            const settings = await store.query<{ name: string; setting: string }>(
              `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1) ORDER BY array_position($1, name)`,
              [SETTINGS],
            );
            const version = (await store.query<{ server_version: string }>('SHOW server_version'))[0]!.server_version;
            console.log(`  PostgreSQL ${version}, local over TCP, settings as the server has them: ${settings.map((s) => `${s.name}=${s.setting}`).join(', ')}`);
          }
          console.log(`  PostgreSQL (local, fsync on), batches of ${size}: ${fmt(await capacity(store, size))} clicks/s`);
          await store.close();
        }
      } finally {
        pg.stop();
      }
    }

    console.log(`click ingest through the journal: ${fmt(BACKLOG)} clicks appended, then folded by the journal's ingester (one node)`);
    const lite = new SqliteStore(join(dir, 'journal.db'), { busyTimeoutMs: 1_000 });
    const fromLite = await throughJournal(lite, join(dir, 'sqlite'));
    console.log(`  SQLite: ${fmt(fromLite.perSecond)} clicks/s, in ${fromLite.transactions} transactions`);
    await lite.close();
    if (pg) {
      // A cluster of its own, as the store's commit above had: nothing left behind by the other runs.
      const cluster = await startCluster({ durable: true });
      try {
        psql(cluster.cluster, 'CREATE DATABASE bench_journal');
        // The click writer's store, as server/tracking/write-worker.ts opens it.
        const store = new PgStore(databaseUrl(cluster.cluster, 'bench_journal'), { busyTimeoutMs: 1_000 });
        const fromPg = await throughJournal(store, join(dir, 'postgres'));
        console.log(`  PostgreSQL (local, fsync on): ${fmt(fromPg.perSecond)} clicks/s, in ${fromPg.transactions} transactions`);
        await store.close();
      } finally {
        cluster.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
