import { Hono } from 'hono';
import type { LatestNotification } from '../../api/types.ts';
import type { AppContext } from '../context.ts';
import { badRequest, limitQuery } from '../http/json-body.ts';
import { channels } from '../messenger/hub.ts';
import { pullStream, resumeFrom } from '../messenger/sse-pull.ts';

const NOTIFICATIONS_PAGE = 100;

/** What the team is told: live on /api/stream (SSE), or polled from /api/notifications?after=<id>. */
export function teamStreamRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  const { store, hub } = ctx.messenger;

  app.get('/stream', async (c) => {
    // A new listener starts from now; a returning one (Last-Event-ID or ?after=) gets what it missed.
    const after = await resumeFrom(c, () => store.lastTeamEventId());
    return pullStream(c, {
      hub,
      channels: [channels.team],
      after,
      read: (from, limit) => store.teamEventsAfter(from, limit),
      event: (e) => e.type,
    });
  });

  // Where "from now" is: a new client takes this as its baseline instead of reading the history.
  app.get('/notifications/latest', async (c) => c.json({ latestId: await store.lastTeamEventId() } satisfies LatestNotification));

  app.get('/notifications', async (c) => {
    const raw = c.req.query('after') ?? '0';
    if (!/^[0-9]{1,15}$/.test(raw)) throw badRequest('after must be an event id (a non-negative integer)');
    const limit = limitQuery(c, NOTIFICATIONS_PAGE, 500);
    return c.json(await store.teamEventsAfter(Number(raw), limit));
  });

  return app;
}
