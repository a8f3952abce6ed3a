import type { Settings } from '../../api/types.ts';
import type { Store } from '../store/store.ts';
import { Hub, type HubLink } from './hub.ts';
import { TeamEvents } from './team-events.ts';
import { WebhookSender } from './webhooks.ts';
import { PendingLeads } from './pending-leads.ts';
import { RateLimiter } from './rate-limit.ts';
import { ReplyEmailSender, type ReplyEmailDeps } from './reply-emails.ts';

/** The messenger's parts, shared by the widget's routes and the team's. */
export interface Messenger {
  store: Store;
  hub: Hub;
  events: TeamEvents;
  webhooks: WebhookSender;
  limits: RateLimiter;
  /** Visitors greeted from a click not judged yet: the team is told once it is. */
  pending: PendingLeads;
  /** Mails visitors the replies they have not seen (settings.replyByEmailAfterMinutes). */
  replyEmails: ReplyEmailSender;
  /**
   * Ends live streams at once (before the HTTP server closes), the reply emails' looks and
   * webhook deliveries; resolves once the webhook lease is given up, which needs the store still open.
   */
  close(): Promise<void>;
}

/**
 * `link`: the other server processes, when there are any. `node`: this node's id, under which
 * it may hold the webhook lease (one node of all delivers webhooks); `webhookLeaseMs` shortens
 * the lease (tests). `replyEmails`: how to mail replies; every process looks for them (each
 * mail is claimed in the database first, so one sends it).
 */
export function createMessenger(
  store: Store,
  settings: () => Promise<Settings>,
  opts: { link?: HubLink | null; node: string; webhookLeaseMs?: number; replyEmails: Omit<ReplyEmailDeps, 'store'> },
): Messenger {
  const hub = new Hub(opts.link ?? null);
  const webhooks = new WebhookSender(store, settings, { node: opts.node, leaseMs: opts.webhookLeaseMs });
  const limits = new RateLimiter();
  const replyEmails = new ReplyEmailSender({ store, ...opts.replyEmails });
  replyEmails.start();
  const messenger: Messenger = {
    store,
    hub,
    events: new TeamEvents(store, hub, webhooks),
    webhooks,
    limits,
    pending: new PendingLeads(() => messenger),
    replyEmails,
    close() {
      hub.close();
      limits.stop();
      replyEmails.stop();
      messenger.pending.close();
      return webhooks.stop();
    },
  };
  return messenger;
}
