import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Hub } from './hub.ts';

const KEEPALIVE_MS = 20_000;
const PAGE = 200;

/**
 * An SSE response that sends every item with an id above `after`, then each new one as the
 * hub signals it. The SSE `id:` is the item's id, so a reconnecting EventSource resumes
 * with Last-Event-ID and gets nothing twice.
 */
export function pullStream<T extends { id: number }>(
  c: Context,
  opts: {
    hub: Hub;
    channels: string[];
    after: number;
    read: (after: number, limit: number) => Promise<T[]>;
    event: (item: T) => string;
  },
): Response {
  return streamSSE(c, async (stream) => {
    let last = opts.after;
    let dirty = true;
    let wake: () => void = () => {};
    const poke = () => {
      dirty = true;
      wake();
    };
    const unsubscribe = opts.channels.map((ch) => opts.hub.on(ch, poke));
    stream.onAbort(poke);
    opts.hub.closed.addEventListener('abort', poke);
    // Each keep-alive also reads: what another machine wrote (its hub can't reach this one's)
    // shows within KEEPALIVE_MS.
    const keepalive = setInterval(() => {
      void stream.write(': keepalive\n\n');
      poke();
    }, KEEPALIVE_MS);
    try {
      await stream.write('retry: 2000\n\n');
      while (!stream.aborted && !opts.hub.closed.aborted) {
        if (!dirty) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        dirty = false;
        const items = await opts.read(last, PAGE);
        for (const item of items) {
          await stream.writeSSE({ id: String(item.id), event: opts.event(item), data: JSON.stringify(item) });
          last = item.id;
        }
        if (items.length === PAGE) dirty = true;
      }
    } finally {
      clearInterval(keepalive);
      unsubscribe.forEach((off) => off());
      opts.hub.closed.removeEventListener('abort', poke);
    }
  });
}

/** Where a (re)connecting client left off: Last-Event-ID, else ?after=, else the given default. */
export function resumeFrom(c: Context, fallback: () => Promise<number>): Promise<number> {
  const raw = c.req.header('last-event-id') ?? c.req.query('after');
  if (raw !== undefined && /^[0-9]{1,15}$/.test(raw)) return Promise.resolve(Number(raw));
  return fallback();
}
