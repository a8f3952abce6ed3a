import { LRUCache } from 'lru-cache';
import type { Health } from '../../api/types.ts';
import { JournalIngester } from './ingest.ts';
import { InlineIngest, WorkerIngest, type IngestRunner } from './ingest-runner.ts';
import type { DatabaseConfig } from '../config/config.ts';
import { ClickJournal } from './journal.ts';
import { RecentHits } from './recent-hits.ts';
import type { LinkTarget, RecipientTarget, Store, TrackingWrite } from '../store/store.ts';

/**
 * Everything the redirect and the pixel share: the store they read, the click journal they
 * append to, the recent-hits memory, and the caches that let a redirect go out while the
 * database is down. The journal is written into the database on a worker thread in the
 * server, or on this thread (`inline`: tests of the app without a server, tools).
 */
export class Tracking {
  readonly journal: ClickJournal;
  readonly recent = new RecentHits();
  private readonly ingest: IngestRunner;
  // Links never change once made; a draft's edit or deletion removes them (forgetLinks). A sent
  // recipient changes only through this server's API (forgetRecipients); the TTL bounds what a
  // hand edit of the database takes to show.
  private readonly links = new LRUCache<number, LinkTarget>({ max: 100_000 });
  private readonly recipients = new LRUCache<number, RecipientTarget>({ max: 200_000, ttl: 10 * 60_000, noDeleteOnStaleGet: true });

  /**
   * `store`: a connection of the redirect's own, that fails at once while the database is
   * locked (the routes' one waits); inline, the ingester writes through it too.
   */
  constructor(
    readonly store: Store,
    opts: { database: DatabaseConfig; journalDir: string; nodeId: string; writer: 'worker' | 'inline' },
  ) {
    if (opts.writer === 'worker') {
      this.journal = new ClickJournal(opts.journalDir);
      this.ingest = new WorkerIngest(opts.database, opts.nodeId, this.journal);
    } else {
      let inline: InlineIngest | null = null;
      this.journal = new ClickJournal(opts.journalDir, {}, () => inline?.appended());
      inline = new InlineIngest(new JournalIngester(store, this.journal.dir, this.journal.firstSegment, opts.nodeId), this.journal);
      this.ingest = inline;
    }
  }

  /** Resolves once the hit is durable (in the journal). */
  record(write: TrackingWrite): Promise<void> {
    return this.journal.append(write);
  }

  /** How click recording keeps up: GET /api/health. */
  get counts(): Health['clicks'] {
    const { written, consumed, leftover, setAside, error } = this.ingest.status;
    const { appended, waiting, dropped } = this.journal;
    return { queued: appended - consumed + leftover + waiting, waiting, written, dropped, setAside, writing: error === null, error };
  }

  /**
   * Brings the database up to the journal: for reads that must see every hit answered so far
   * (stats), and at start, for what an earlier run left. While the database is unavailable
   * this gives up at once, and the reads see what it has.
   */
  async settle(): Promise<void> {
    await this.ingest.sync().catch(() => {});
  }

  /** Without a turn of the microtask queue when cached: the redirect's usual case. */
  cachedLink(id: number): LinkTarget | undefined {
    return this.links.get(id);
  }

  cachedRecipient(id: number): RecipientTarget | undefined {
    return this.recipients.get(id);
  }

  /** Recipients were edited (names, attributes): redirects must not resolve merge tags from the old ones. */
  forgetRecipients(): void {
    this.recipients.clear();
  }

  /** A draft was edited or deleted: its placements are gone (an edit makes new ones). */
  forgetLinks(): void {
    this.links.clear();
  }

  async link(id: number): Promise<LinkTarget | null> {
    const hit = this.links.get(id);
    if (hit) return hit;
    const link = await this.store.getLink(id);
    if (link) this.links.set(id, link);
    return link;
  }

  async recipient(id: number): Promise<RecipientTarget | null> {
    const fresh = this.recipients.get(id);
    if (fresh) return fresh;
    try {
      const recipient = await this.store.getRecipient(id);
      // Until it is sent a recipient is still changing; the click rules need its sent time.
      if (recipient?.sentAt) this.recipients.set(id, recipient);
      return recipient;
    } catch (err) {
      const stale = this.recipients.get(id, { allowStale: true });
      if (stale) return stale;
      throw err;
    }
  }

  async close(): Promise<void> {
    this.journal.close();
    await this.ingest.close();
    await this.store.close();
  }
}
