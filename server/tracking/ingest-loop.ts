import type { IngestStatus, JournalIngester } from './ingest.ts';

/**
 * The ingest loop, and the messages between the click writer's thread and the server: what
 * both sides of the thread share, so neither loads the other's code.
 */

/** A request to the click writer's thread. */
export type WriterRequest = { id: number; op: 'sync' | 'close' };
/** status: this writer's counts so far, and its state; error: why the request failed. */
export type WriterReply = { id?: number; status: IngestStatus; error?: string };

/**
 * How often the writer looks at the journal. Long enough that a busy minute makes large
 * transactions (a hot page is written once for many hits); reads that need every hit call
 * sync() and do not wait for it.
 */
export const POLL_MS = 200;
const RETRY_MS = 100;
const MAX_RETRY_MS = 2_000;
const DRAIN_MS = 10_000;

const sameStatus = (a: IngestStatus, b: IngestStatus) =>
  a.written === b.written && a.consumed === b.consumed && a.leftover === b.leftover && a.setAside === b.setAside && a.error === b.error;

/**
 * Steps the ingester: every POLL_MS when asked to poll, and backing off while the database is
 * unavailable. onChange hears of every change of its status: progress, a failure, a recovery.
 */
export class IngestLoop {
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;
  private error: string | null = null;
  private last: IngestStatus;
  /** The step under way: steps never overlap (a timer's and a sync's), each starts after the last. */
  private running: Promise<void> = Promise.resolve();

  constructor(
    readonly ingester: JournalIngester,
    private readonly pollMs: number | null,
    private readonly onChange: (status: IngestStatus) => void,
  ) {
    this.last = this.status();
    this.schedule(pollMs);
  }

  status(): IngestStatus {
    return this.ingester.status(this.error);
  }

  /** Ingests now; rejects with what the database threw, with a retry already arranged. */
  run(): Promise<void> {
    const step = this.running.then(() => this.step());
    this.running = step.catch(() => {});
    return step;
  }

  private async step(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      await this.ingester.step();
      this.failures = 0;
      this.error = null;
      this.schedule(this.pollMs);
    } catch (err) {
      this.error = (err as Error).message;
      if (this.failures++ % 100 === 0) {
        console.error('[clicktrail] click store unavailable, the hits wait in the journal:', this.error);
      }
      this.schedule(Math.min(RETRY_MS * 2 ** Math.min(this.failures - 1, 5), MAX_RETRY_MS));
      throw err;
    } finally {
      const status = this.status();
      if (!sameStatus(status, this.last)) this.onChange((this.last = status));
    }
  }

  /** Ingests everything, retrying while the database is unavailable, for up to timeoutMs; stops polling. */
  async drain(timeoutMs = DRAIN_MS): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.run();
        this.stop();
        return true;
      } catch {
        if (Date.now() >= until) {
          this.stop();
          return false;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  stop(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(ms: number | null): void {
    if (ms === null || this.closed) return;
    this.timer = setTimeout(() => {
      // logged by run(), and tried again later
      this.run().catch(() => {});
    }, ms);
    this.timer.unref();
  }
}
