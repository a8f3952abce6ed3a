import type { TrackingStore, TrackingWrite } from './store.ts';

export interface RecorderOptions {
  /** How long a request waits for its batch to commit before answering anyway. */
  waitBoundMs?: number;
  /** Clicks held in memory while the database is unavailable; past this, new ones are dropped (and counted). */
  maxQueued?: number;
  maxBatch?: number;
  retryMs?: number;
}

/**
 * Group commit: hits queued within one turn of the event loop go to the store in one
 * transaction. record() settles once the hit is durable, or after waitBoundMs if the
 * store is slow or down; then the hit stays queued and is retried until it is written.
 */
export class Recorder {
  /** Each write with the answer waiting on it (null once that answer has gone out). */
  private queue: { write: TrackingWrite; done: (() => void) | null }[] = [];
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
    this.opts = { waitBoundMs: 50, maxQueued: 100_000, maxBatch: 5_000, retryMs: 100, ...opts };
  }

  get queued(): number {
    return this.queue.length;
  }

  record(write: TrackingWrite): Promise<void> {
    if (this.queue.length >= this.opts.maxQueued) {
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
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.retryTimer) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private flushing: Promise<void> | null = null;

  /** One flush at a time: a second caller waits for the running one. */
  private flush(): Promise<void> {
    this.scheduled = false;
    this.flushing ??= this.writeQueued().finally(() => {
      this.flushing = null;
      if (this.queue.length > 0) this.schedule();
    });
    return this.flushing;
  }

  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.opts.maxBatch);
      const answer = () => {
        for (const item of batch) {
          item.done?.();
          item.done = null;
        }
      };
      // A slow (asynchronous) store must not hold the answers back longer than the bound.
      const bound = setTimeout(answer, this.opts.waitBoundMs);
      try {
        await this.store.write(batch.map((item) => item.write));
      } catch (err) {
        clearTimeout(bound);
        answer();
        this.failures++;
        if (this.failures === 1 || this.failures % 100 === 0) {
          console.error(`[clicktrail] click store unavailable (${this.queue.length} queued, retrying):`, (err as Error).message);
        }
        const delay = Math.min(this.opts.retryMs * 2 ** Math.min(this.failures - 1, 4), 2_000);
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          void this.flush();
        }, delay);
        return;
      }
      clearTimeout(bound);
      this.queue.splice(0, batch.length);
      this.written += batch.length;
      this.failures = 0;
      answer();
    }
  }

  /** Writes everything queued, retrying while the store is down, up to timeoutMs. */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < until) {
      if (this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.retryTimer = null;
      }
      await this.flush();
      if (this.queue.length > 0) await new Promise((r) => setTimeout(r, this.opts.retryMs));
    }
    return this.queue.length === 0;
  }
}
