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

/**
 * Delivers the team's events to settings.webhookUrl in id order, one at a time. The
 * position is kept in the database, so what is not yet delivered survives a restart. A
 * failing delivery is retried with exponential backoff; after MAX_ATTEMPTS the event is
 * given up (logged) so one poisoned event can't stall the rest forever.
 */
export class WebhookSender {
  /** First retry delay; doubles each attempt. Tests shorten it. */
  retryBaseMs = 1000;
  private running: Promise<void> | null = null;
  private again = false;
  private readonly stopping = new AbortController();

  constructor(
    private readonly store: Store,
    private readonly settings: () => Promise<Settings>,
  ) {}

  /** Something new may be waiting: deliver it (returns at once; one worker at a time). */
  kick(): void {
    if (this.stopping.signal.aborted) return;
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

  /** Waits for the current run (tests). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  stop(): void {
    this.stopping.abort();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const { webhookUrl, webhookSecret } = await this.settings();
      if (!webhookUrl) {
        // Nothing is owed while no webhook is set: a URL set later gets events from then on.
        await this.store.setWebhookCursor(await this.store.lastTeamEventId());
        return;
      }
      const cursor = (await this.store.webhookCursor()) ?? 0;
      const events = await this.store.teamEventsAfter(cursor, BATCH);
      if (events.length === 0) return;
      for (const event of events) {
        if (this.stopping.signal.aborted) return;
        await this.deliverWithRetries(webhookUrl, webhookSecret, event);
        await this.store.setWebhookCursor(event.id);
      }
    }
  }

  private async deliverWithRetries(url: string, secret: string, event: TeamEvent): Promise<void> {
    const body = JSON.stringify(event);
    for (let attempt = 1; ; attempt++) {
      const problem = await this.deliver(url, secret, event, body);
      if (problem === null) return;
      if (attempt >= MAX_ATTEMPTS || this.stopping.signal.aborted) {
        console.error(`[clicktrail] webhook gave up on event ${event.id} after ${attempt} attempts: ${problem}`);
        return;
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
