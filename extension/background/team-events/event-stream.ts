import { createParser } from 'eventsource-parser';
import type { TeamEvent } from '../../../api/types.ts';
import type { ServerSettings } from '../../settings/server-settings.ts';

/**
 * GET /api/stream read with fetch (EventSource can't send the bearer token), for as long
 * as the service worker lives. Resolves when the stream ends or fails.
 */
export async function readEventStream(
  server: ServerSettings,
  lastId: number,
  onEvent: (event: TeamEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch(`${server.url}/api/stream`, {
    headers: { authorization: `Bearer ${server.token}`, accept: 'text/event-stream', 'last-event-id': String(lastId) },
    signal,
  });
  if (!res.ok || !res.body) throw new Error(`stream: ${res.status}`);
  const parser = createParser({
    onEvent(message) {
      try {
        const event = JSON.parse(message.data) as TeamEvent;
        if (typeof event.id === 'number' && typeof event.type === 'string') onEvent(event);
      } catch {
        // A keep-alive or something newer than this extension: not for us.
      }
    },
  });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    parser.feed(value);
  }
}
