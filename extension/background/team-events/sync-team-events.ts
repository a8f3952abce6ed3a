import { ApiError, clicktrail } from '../../api/client.ts';
import { loadServerSettings } from '../../settings/server-settings.ts';
import { deliverEvents } from './deliver-events.ts';
import { readEventStream } from './event-stream.ts';
import { lastEventId, setLastEventId } from './notification-log.ts';

const RECONNECT_MS = 3000;
let stream: AbortController | null = null;

/**
 * Catches up by polling, then listens live. Called when the worker starts, on every
 * alarm and when the server changes; the live stream only lasts while the worker does,
 * which is why the alarm polls.
 */
export async function syncTeamEvents(): Promise<void> {
  const server = await loadServerSettings();
  if (!server) return;
  try {
    let last = await lastEventId();
    if (last === null) {
      // A newly configured server: start from now, not from its whole history.
      last = await latestEventId();
      await setLastEventId(last);
    } else {
      await deliverEvents(await clicktrail.notificationsAfter(last));
      last = (await lastEventId()) ?? last;
    }
    if (!stream) listen(last);
  } catch (err) {
    console.warn('[clicktrail] team events:', (err as Error).message);
  }
}

/** The server's newest event id; a server from before `/api/notifications/latest` is paged through to its end. */
async function latestEventId(): Promise<number> {
  try {
    return await clicktrail.latestNotificationId();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
  const PAGE = 500;
  for (let last = 0; ; ) {
    const page = await clicktrail.notificationsAfter(last, PAGE);
    last = page.reduce((max, e) => Math.max(max, e.id), last);
    if (page.length < PAGE) return last;
  }
}

function listen(lastId: number): void {
  const controller = new AbortController();
  stream = controller;
  void loadServerSettings().then(async (server) => {
    try {
      if (server) await readEventStream(server, lastId, (e) => void deliverEvents([e]), controller.signal);
    } catch (err) {
      if (!controller.signal.aborted) console.warn('[clicktrail] stream:', (err as Error).message);
    }
    if (stream !== controller) return;
    stream = null;
    if (!controller.signal.aborted) setTimeout(() => void syncTeamEvents(), RECONNECT_MS);
  });
}

/** Drops the live stream (the server or token changed). */
export function stopTeamEvents(): void {
  stream?.abort();
  stream = null;
}
