import type { TeamEvent } from '../../api/types.ts';
import { channels, type Hub } from './hub.ts';
import type { Store, NewTeamEvent } from '../store/store.ts';
import type { WebhookSender } from './webhooks.ts';

/**
 * The one way a TeamEvent comes to be: logged with the next id, then streamed and sent to the
 * webhook. The sender hears of it through the hub, so an event logged by another process
 * reaches the node that holds the webhook lease (and, should that wake-up be lost, its next
 * look finds it).
 */
export class TeamEvents {
  constructor(
    private readonly store: Store,
    private readonly hub: Hub,
    webhooks: WebhookSender,
  ) {
    hub.on(channels.team, () => webhooks.kick());
  }

  async publish(event: NewTeamEvent): Promise<TeamEvent> {
    const saved = await this.store.appendTeamEvent(event);
    this.hub.notify(channels.team);
    return saved;
  }
}
