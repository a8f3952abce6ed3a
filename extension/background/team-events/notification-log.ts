import { browser } from '../../platform/browser.ts';

/** A notification the extension showed: kept (the last few) so a click can find its target and tests can see it. */
export interface ShownNotification {
  notificationId: string;
  eventId: number;
  type: string;
  title: string;
  message: string;
  conversationId: number | null;
  personId: number | null;
  at: string;
}

const LOG = 'notificationsShown';
const LAST_EVENT = 'lastEventId';
const KEEP = 100;

export async function shownNotifications(): Promise<ShownNotification[]> {
  return ((await browser.storage.local.get(LOG))[LOG] as ShownNotification[] | undefined) ?? [];
}

export async function logShown(entry: ShownNotification): Promise<void> {
  const log = await shownNotifications();
  await browser.storage.local.set({ [LOG]: [...log, entry].slice(-KEEP) });
}

/** The id of the last team event handled; null until a baseline is taken for the configured server. */
export async function lastEventId(): Promise<number | null> {
  const v = (await browser.storage.local.get(LAST_EVENT))[LAST_EVENT];
  return typeof v === 'number' ? v : null;
}

export async function setLastEventId(id: number | null): Promise<void> {
  await browser.storage.local.set({ [LAST_EVENT]: id });
}
