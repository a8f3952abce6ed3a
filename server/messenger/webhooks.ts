import { createHmac } from 'node:crypto';
import type { Settings, TeamEvent } from '../../api/types.ts';
import type { Store } from '../store/store.ts';

const BATCH = 50;
const MAX_ATTEMPTS = 8;
const TIMEOUT_MS = 10_000;

/**
 * `X-Clicktrail-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed
 * with settings.webhookSecret. The timestamp lets a receiver refuse replays.
 */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** How long a lease lasts unrenewed: a node that dies hands delivery over within this and a third. */
const LEASE_MS = 30_000;

export interface WebhookSenderOptions {
  /** This node's id: the name it holds the lease under. */
  node: string;
  /** How long a lease lasts unrenewed; it is renewed every third of that. Tests shorten it. */
  leaseMs?: number;
}

/**
 * Delivers the team's events to settings.webhookUrl in id order, one at a time. The
 * position is kept in the database, so what is not yet delivered survives a restart. A
 * failing delivery is retried with exponential backoff; after MAX_ATTEMPTS the event is
 * given up (logged) so one poisoned event can't stall the rest forever.
 *
 * Every node runs one, and of all the nodes on the database one delivers: the holder of the
 * lease on the cursor's row (Store.takeWebhookLease). A lease in a row rather than a
 * PostgreSQL advisory lock on a connection of its own: it works the same on SQLite, where the
 * workers of one machine share a file and no such lock exists; it runs out by itself, so a
 * node that hangs or is cut off from the database loses it after leaseMs, where a session's
 * lock lasts as long as the server thinks the connection alive, and is lost with a dropped
 * connection without the holder hearing of it until it asks; and the cursor moves only by
 * the lease's holder, in the same statement, which no lock held on another connection fences.
 *
 * The holder renews the lease every third of leaseMs and looks for undelivered events each
 * time, so it never depends on a kick (another node's wake-up can be lost); any other node
 * tries to take the lease at the same pace, so it takes over within leaseMs and a third of a
 * holder that died, and ignores kicks meanwhile. A holder stops delivering once its own clock
 * says the lease may have run out (counted from before it asked: never after the database's
 * time). What can arrive twice is the one event in flight when a holder died, stopped or lost
 * its lease: delivered, the cursor not yet moved. Its X-Clicktrail-Delivery id is the same, so
 * a receiver can drop the repeat.
 */
export class WebhookSender {
  /** First retry delay; doubles each attempt. Tests shorten it. */
  retryBaseMs = 1000;
  private readonly node: string;
  private readonly leaseMs: number;
  /** Until when (performance.now()) this node may deliver; 0 while another holds the lease. */
  private heldUntil = 0;
  private running: Promise<void> | null = null;
  private again = false;
  private beating: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly stopping = new AbortController();
  private stopped: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly settings: () => Promise<Settings>,
    opts: WebhookSenderOptions,
  ) {
    this.node = opts.node;
    this.leaseMs = opts.leaseMs ?? LEASE_MS;
    this.timer = setInterval(() => this.beat(), this.leaseMs / 3).unref();
    // Now, not a third of the lease later: what a previous run left undelivered goes out.
    this.beat();
  }

  /** Something new may be waiting: the holder delivers it (returns at once; one run at a time); any other node leaves it to the holder. */
  kick(): void {
    if (this.stopping.signal.aborted || !this.holds()) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err) => console.error('[clicktrail] webhook delivery stopped:', err))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Waits for the lease's renewal and the current run (tests). */
  async idle(): Promise<void> {
    await this.beating;
    await this.running;
  }

  /** Ends deliveries and gives the lease up, so another node takes over at once. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping.abort();
      clearInterval(this.timer);
      await this.idle();
      this.heldUntil = 0;
      await this.store.releaseWebhookLease(this.node).catch(() => {});
    })();
    return this.stopped;
  }

  private holds(): boolean {
    return performance.now() < this.heldUntil;
  }

  /** Takes or renews the lease, then (the holder) looks for events: while a run goes on, once it ends. */
  private beat(): void {
    if (this.beating || this.stopping.signal.aborted) return;
    this.beating = this.take()
      .then((held) => {
        if (held) this.kick();
      })
      .finally(() => (this.beating = null));
  }

  private async take(): Promise<boolean> {
    const asked = performance.now();
    try {
      this.heldUntil = (await this.store.takeWebhookLease(this.node, this.leaseMs)) ? asked + this.leaseMs : 0;
    } catch {
      // The database is out of reach: a lease held runs out here as it does there, and another node's time comes.
    }
    return this.holds();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const { webhookUrl, webhookSecret } = await this.settings();
      if (!webhookUrl) {
        // Nothing is owed while no webhook is set: a URL set later gets events from then on.
        await this.moveCursor(await this.store.lastTeamEventId());
        return;
      }
      const cursor = (await this.store.webhookCursor()) ?? 0;
      const events = await this.store.teamEventsAfter(cursor, BATCH);
      if (events.length === 0) return;
      for (const event of events) {
        if (!(await this.deliverWithRetries(webhookUrl, webhookSecret, event))) return;
        if (!(await this.moveCursor(event.id))) return;
      }
    }
  }

  /** False when another node holds the lease now: this one delivers no more. */
  private async moveCursor(id: number): Promise<boolean> {
    if (await this.store.setWebhookCursor(id, this.node)) return true;
    this.heldUntil = 0;
    return false;
  }

  /** Delivered or given up: true; false when it stopped first (the sender stops, or the lease may have run out), the cursor left where it was. */
  private async deliverWithRetries(url: string, secret: string, event: TeamEvent): Promise<boolean> {
    const body = JSON.stringify(event);
    for (let attempt = 1; ; attempt++) {
      if (this.stopping.signal.aborted || !this.holds()) return false;
      const problem = await this.deliver(url, secret, event, body);
      if (problem === null) return true;
      if (attempt >= MAX_ATTEMPTS) {
        console.error(`[clicktrail] webhook gave up on event ${event.id} after ${attempt} attempts: ${problem}`);
        return true;
      }
      await sleep(this.retryBaseMs * 2 ** (attempt - 1), this.stopping.signal);
    }
  }

  /** null when delivered, else what went wrong. */
  private async deliver(url: string, secret: string, event: TeamEvent, body: string): Promise<string | null> {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Clicktrail-Webhook/1',
          'x-clicktrail-event': event.type,
          'x-clicktrail-delivery': String(event.id),
          'x-clicktrail-signature': signWebhook(secret, body, Math.floor(Date.now() / 1000)),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(TIMEOUT_MS), this.stopping.signal]),
      });
      await res.body?.cancel();
      return res.ok ? null : `HTTP ${res.status}`;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
