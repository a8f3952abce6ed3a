import type { Settings } from '../../api/types.ts';
import type { Store } from '../store/store.ts';
import { Hub, type HubLink } from './hub.ts';
import { TeamEvents } from './team-events.ts';
import { WebhookSender } from './webhooks.ts';
import { PendingLeads } from './pending-leads.ts';
import { RateLimiter } from './rate-limit.ts';

/** The messenger's parts, shared by the widget's routes and the team's. */
export interface Messenger {
  store: Store;
  hub: Hub;
  events: TeamEvents;
  webhooks: WebhookSender;
  limits: RateLimiter;
  /** Visitors greeted from a click not judged yet: the team is told once it is. */
  pending: PendingLeads;
  /**
   * Ends live streams at once (before the HTTP server closes) and webhook deliveries; resolves
   * once the webhook lease is given up, which needs the store still open.
   */
  close(): Promise<void>;
}

/**
 * `link`: the other server processes, when there are any. `node`: this node's id, under which
 * it may hold the webhook lease (one node of all delivers webhooks); `webhookLeaseMs` shortens
 * the lease (tests).
 */
export function createMessenger(
  store: Store,
  settings: () => Promise<Settings>,
  opts: { link?: HubLink | null; node: string; webhookLeaseMs?: number },
): Messenger {
  const hub = new Hub(opts.link ?? null);
  const webhooks = new WebhookSender(store, settings, { node: opts.node, leaseMs: opts.webhookLeaseMs });
  const limits = new RateLimiter();
  const messenger: Messenger = {
    store,
    hub,
    events: new TeamEvents(store, hub, webhooks),
    webhooks,
    limits,
    pending: new PendingLeads(() => messenger),
    close() {
      hub.close();
      limits.stop();
      messenger.pending.close();
      return webhooks.stop();
    },
  };
  return messenger;
}
