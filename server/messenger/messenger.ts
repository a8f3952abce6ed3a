import type Database from 'better-sqlite3';
import type { Settings } from '../../api/types.ts';
import { Hub } from './hub.ts';
import { SqliteMessengerStore } from './sqlite.ts';
import type { MessengerStore } from './store.ts';
import { TeamEvents } from './team-events.ts';
import { WebhookSender } from './webhooks.ts';
import { PendingLeads } from './pending-leads.ts';
import { RateLimiter } from './rate-limit.ts';

/** The messenger's parts, shared by the widget's routes and the team's. */
export interface Messenger {
  store: MessengerStore;
  hub: Hub;
  events: TeamEvents;
  webhooks: WebhookSender;
  limits: RateLimiter;
  /** Visitors greeted from a click not judged yet: the team is told once it is. */
  pending: PendingLeads;
  /** Ends live streams and webhook retries (before the HTTP server closes). */
  close(): void;
}

export function createMessenger(db: Database.Database, settings: () => Promise<Settings>): Messenger {
  const store = new SqliteMessengerStore(db);
  const hub = new Hub();
  const webhooks = new WebhookSender(store, settings);
  const limits = new RateLimiter();
  // Deliver what a previous run left undelivered.
  webhooks.kick();
  const messenger: Messenger = {
    store,
    hub,
    events: new TeamEvents(store, hub, webhooks),
    webhooks,
    limits,
    pending: new PendingLeads(() => messenger),
    close() {
      hub.close();
      webhooks.stop();
      limits.stop();
      messenger.pending.close();
    },
  };
  return messenger;
}
