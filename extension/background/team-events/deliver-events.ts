import type { TeamEvent } from '../../../api/types.ts';
import { browser } from '../../platform/browser.ts';
import type { RuntimeMessage } from '../../runtime-messages.ts';
import { describeEvent } from './describe-event.ts';
import { lastEventId, logShown, setLastEventId } from './notification-log.ts';

let queue: Promise<void> = Promise.resolve();

/**
 * Shows each new team event once. The stream and the poller both feed this, in any
 * order and overlapping; one queue and the stored last id keep each event to one
 * notification, across service-worker restarts too.
 */
export function deliverEvents(events: readonly TeamEvent[]): Promise<void> {
  queue = queue.then(() => deliver(events)).catch((err) => console.error('[clicktrail] delivering events:', err));
  return queue;
}

async function deliver(events: readonly TeamEvent[]): Promise<void> {
  let last = await lastEventId();
  // No baseline yet: the history is not news, and the caller takes the baseline first.
  if (last === null) return;
  for (const event of [...events].sort((a, b) => a.id - b.id)) {
    if (event.id <= last) continue;
    await show(event);
    last = event.id;
    await setLastEventId(last);
  }
}

async function show(event: TeamEvent): Promise<void> {
  void browser.runtime.sendMessage({ type: 'team.event', event } satisfies RuntimeMessage).catch(() => {
    // No extension page open to hear it.
  });
  const notice = describeEvent(event);
  if (!notice) return;
  const notificationId = `clicktrail-${event.id}`;
  await logShown({
    notificationId,
    eventId: event.id,
    type: event.type,
    title: notice.title,
    message: notice.message,
    conversationId: notice.conversationId,
    personId: notice.personId,
    at: new Date().toISOString(),
  });
  try {
    await browser.notifications.create(notificationId, {
      type: 'basic',
      iconUrl: browser.runtime.getURL('icons/icon-128.png'),
      title: notice.title,
      message: notice.message,
      ...(notice.context ? { contextMessage: notice.context } : {}),
    });
  } catch (err) {
    console.warn('[clicktrail] notification not shown:', err);
  }
}
