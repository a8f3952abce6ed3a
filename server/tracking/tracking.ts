import { LRUCache } from 'lru-cache';
import type { LinkTarget, RecipientTarget, TrackingStore } from './store.ts';
import { RecentHits } from './recent-hits.ts';
import { Recorder, type RecorderOptions } from './recorder.ts';

/**
 * Everything the redirect and the pixel share: the store, the group-commit recorder, the
 * recent-hits memory and the caches that let a redirect go out while the database is down.
 */
export class Tracking {
  readonly recorder: Recorder;
  readonly recent = new RecentHits();
  // Links never change once made; recipients do (name, attributes, sent time), so they expire.
  private readonly links = new LRUCache<number, LinkTarget>({ max: 100_000 });
  private readonly recipients = new LRUCache<number, RecipientTarget>({ max: 200_000, ttl: 30_000, noDeleteOnStaleGet: true });

  constructor(
    readonly store: TrackingStore,
    recorder: RecorderOptions = {},
  ) {
    this.recorder = new Recorder(store, recorder);
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
    await this.recorder.drain();
    await this.store.close();
  }
}
