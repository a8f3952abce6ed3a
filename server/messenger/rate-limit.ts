/**
 * Fixed-window counters in memory, per key. Enough for one server; several servers behind a
 * load balancer each count their own share, which only makes the limit looser.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly windowMs = 60_000) {
    this.sweeper = setInterval(() => this.sweep(), windowMs).unref();
  }

  /** Counts one hit; the seconds to wait when the key is over `max` in this window, else 0. */
  hit(key: string, max: number, now = Date.now()): number {
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) this.windows.set(key, (w = { start: now, count: 0 }));
    w.count++;
    return w.count > max ? Math.ceil((w.start + this.windowMs - now) / 1000) : 0;
  }

  private sweep(now = Date.now()): void {
    for (const [key, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(key);
  }

  stop(): void {
    clearInterval(this.sweeper);
  }
}

/** Per minute. */
export const LIMITS = {
  /** Every /messenger request from one address (a shop's office may share one). */
  perIp: 300,
  /** New visitor sessions from one address. */
  sessionsPerIp: 30,
  /** Messages, conversations, events, visits and addresses written by one visitor. */
  writesPerVisitor: 30,
  /** Seen receipts of one visitor: one per reply they watch come in, apart from their writes. */
  seenPerVisitor: 120,
};
