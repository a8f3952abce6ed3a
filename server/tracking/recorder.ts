import type { TrackingStore, TrackingWrite } from './store.ts';

export interface RecorderOptions {
  /** How long a request waits for its batch to commit before answering anyway. */
  waitBoundMs?: number;
  /** Hits held in memory while the database is unavailable; past this, new ones are dropped (and counted). */
  maxQueued?: number;
  maxBatch?: number;
  /** Batches handed to the store and not yet committed; more wait in the queue. */
  maxInFlight?: number;
  retryMs?: number;
}

interface Queued {
  write: TrackingWrite;
  /** Lets the request waiting on this hit go; null once it has gone. */
  done: (() => void) | null;
}

/**
 * Group commit: hits queued within one turn of the event loop go to the store in one
 * transaction. record() settles once the hit is durable, or after waitBoundMs if the store
 * is slow or down; then the hit stays queued and is retried until it is written. A few
 * batches may be in flight at once, so a commit never waits for the previous one's answer.
 */
export class Recorder {
  private queue: Queued[] = [];
  private inFlight = 0;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  dropped = 0;
  written = 0;
  private readonly opts: Required<RecorderOptions>;

  constructor(
    private readonly store: TrackingStore,
    opts: RecorderOptions = {},
  ) {
    this.opts = { waitBoundMs: 50, maxQueued: 100_000, maxBatch: 5_000, maxInFlight: 4, retryMs: 100, ...opts };
  }

  /** Hits not yet written, in flight included. */
  get queued(): number {
    return this.queue.length + this.inFlightHits;
  }
  private inFlightHits = 0;

  record(write: TrackingWrite): Promise<void> {
    if (this.queued >= this.opts.maxQueued) {
      this.dropped++;
      return Promise.resolve();
    }
    if (this.retryTimer) {
      // The store is down and a retry is already set: waiting for it would only hold the answer back.
      this.queue.push({ write, done: null });
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.queue.push({ write, done: resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.opts.maxInFlight && !this.retryTimer) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.inFlight++;
      this.inFlightHits += batch.length;
      const answer = () => {
        for (const item of batch) {
          item.done?.();
          item.done = null;
        }
      };
      // A slow store must not hold the answers back longer than the bound.
      const bound = setTimeout(answer, this.opts.waitBoundMs);
      const settle = () => {
        clearTimeout(bound);
        answer();
        this.inFlight--;
        this.inFlightHits -= batch.length;
      };
      let write: Promise<void>;
      try {
        write = this.store.write(batch.map((item) => item.write));
      } catch (err) {
        write = Promise.reject(err);
      }
      write.then(
        () => {
          settle();
          this.written += batch.length;
          this.failures = 0;
          this.pump();
        },
        (err: unknown) => {
          settle();
          this.queue.unshift(...batch); // nothing of a failed batch was written: it goes first next time
          this.failures++;
          if (this.failures === 1 || this.failures % 100 === 0) {
            console.error(`[clicktrail] click store unavailable (${this.queued} queued, retrying):`, (err as Error).message);
          }
          if (!this.retryTimer) {
            const delay = Math.min(this.opts.retryMs * 2 ** Math.min(this.failures - 1, 4), 2_000);
            this.retryTimer = setTimeout(() => {
              this.retryTimer = null;
              this.pump();
            }, delay);
          }
        },
      );
    }
  }

  /** Writes everything queued, retrying while the store is down, for up to timeoutMs. */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.queued > 0 && Date.now() < until) {
      if (this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.retryTimer = null;
      }
      this.pump();
      await new Promise((r) => setTimeout(r, Math.min(this.opts.retryMs, 20)));
    }
    return this.queued === 0;
  }
}
