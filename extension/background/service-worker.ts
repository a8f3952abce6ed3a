import { browser, type Runtime } from '../platform/browser.ts';
import type { RuntimeMessage } from '../runtime-messages.ts';
import { injectOverlay, overlayData } from './overlay-service.ts';
import { setLastEventId, shownNotifications } from './team-events/notification-log.ts';
import { stopTeamEvents, syncTeamEvents } from './team-events/sync-team-events.ts';

const POLL_ALARM = 'team-events';
/** Chrome's floor for alarms; the live stream covers the time in between while the worker is awake. */
const POLL_MINUTES = 0.5;

// Listeners are registered synchronously at the top level so a restarted worker gets the event that woke it.
browser.runtime.onMessage.addListener((raw: unknown, sender: Runtime.MessageSender) => {
  const message = raw as RuntimeMessage;
  if (sender.id !== browser.runtime.id) return undefined;
  switch (message.type) {
    case 'overlay.inject':
      return injectOverlay(message.tabId);
    case 'overlay.data':
      return overlayData(message.hrefs);
    default:
      return undefined;
  }
});

browser.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === POLL_ALARM) void syncTeamEvents();
});

browser.notifications.onClicked.addListener(async (notificationId) => {
  const shown = (await shownNotifications()).find((n) => n.notificationId === notificationId);
  const target = shown?.conversationId
    ? `#conversation=${shown.conversationId}`
    : shown?.personId
      ? `#person=${shown.personId}`
      : '';
  await browser.tabs.create({ url: browser.runtime.getURL(`inbox.html${target}`) });
  await browser.notifications.clear(notificationId);
});

// A new install has no server: the options page is where using Clicktrail starts.
browser.runtime.onInstalled.addListener(({ reason }) => {
  if (reason === 'install') void browser.runtime.openOptionsPage();
});

// Access to the server allowed after it was saved (the options page's "Ask again"): catch up now, not at the next alarm.
browser.permissions.onAdded.addListener(() => void syncTeamEvents());

browser.storage.onChanged.addListener((changes, area) => {
  if (area !== 'local' || !changes.server) return;
  // Another server (or token) has another event history: take a new baseline.
  stopTeamEvents();
  void setLastEventId(null).then(syncTeamEvents);
});

void browser.alarms.get(POLL_ALARM).then((alarm) => {
  if (!alarm) void browser.alarms.create(POLL_ALARM, { periodInMinutes: POLL_MINUTES });
});
void syncTeamEvents();
