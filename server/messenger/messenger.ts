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
  /** Ends live streams, webhook retries and the reply emails' looks (before the HTTP server closes). */
  close(): void;
}

/**
 * `link`: the other server processes, when there are any. `deliversWebhooks`: the one process
 * of several that sends webhooks (their cursor is shared: two senders would send twice).
 * `replyEmails`: how to mail replies; every process looks for them (each mail is claimed in
 * the database first, so one sends it).
 */
export function createMessenger(
  store: Store,
  settings: () => Promise<Settings>,
  opts: { link?: HubLink | null; deliversWebhooks?: boolean; replyEmails: Omit<ReplyEmailDeps, 'store'> },
): Messenger {
  const hub = new Hub(opts.link ?? null);
  const webhooks = new WebhookSender(store, settings);
  const limits = new RateLimiter();
  const replyEmails = new ReplyEmailSender({ store, ...opts.replyEmails });
  replyEmails.start();
  // Deliver what a previous run left undelivered.
  if (opts.deliversWebhooks !== false) webhooks.kick();
  const messenger: Messenger = {
    store,
    hub,
    events: new TeamEvents(store, hub, opts.deliversWebhooks === false ? null : webhooks),
    webhooks,
    limits,
    pending: new PendingLeads(() => messenger),
    replyEmails,
    close() {
      hub.close();
      webhooks.stop();
      limits.stop();
      replyEmails.stop();
      messenger.pending.close();
    },
  };
  return messenger;
}
