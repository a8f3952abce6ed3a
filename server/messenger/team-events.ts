import type { TeamEvent } from '../../api/types.ts';
import { channels, type Hub } from './hub.ts';
import type { MessengerStore, NewTeamEvent } from './store.ts';
import type { WebhookSender } from './webhooks.ts';

/** The one way a TeamEvent comes to be: logged with the next id, then streamed and sent to the webhook. */
export class TeamEvents {
  constructor(
    private readonly store: MessengerStore,
    private readonly hub: Hub,
    private readonly webhooks: WebhookSender,
  ) {}

  async publish(event: NewTeamEvent): Promise<TeamEvent> {
    const saved = await this.store.appendTeamEvent(event);
    this.hub.notify(channels.team);
    this.webhooks.kick();
    return saved;
  }
}
