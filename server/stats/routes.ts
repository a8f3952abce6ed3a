import { Hono } from 'hono';
import type { MessageStats } from '../../api/types.ts';
import type { AppContext } from '../context.ts';
import { idParam, notFound } from '../http/json-body.ts';

/** GET /api/messages/:id/stats and /people: read from counters kept as clicks commit, never a scan of all clicks. */
export function statsRoutes({ store, tracking }: AppContext): Hono {
  const app = new Hono();

  app.get('/:id/stats', async (c) => {
    const message = await store.getMessage(idParam(c));
    if (!message) throw notFound('message');
    await tracking.settle();
    const [{ goalCompleted, ...stats }, { recipients, sent }] = await Promise.all([
      tracking.store.messageStats(message.id),
      store.delivery(message.id),
    ]);
    const goal = message.goal && {
      ...message.goal,
      completed: goalCompleted,
      rate: sent ? goalCompleted / sent : 0,
    };
    return c.json({ recipients, sent, ...stats, goal } satisfies MessageStats);
  });

  app.get('/:id/people', async (c) => {
    const message = await store.getMessage(idParam(c));
    if (!message) throw notFound('message');
    await tracking.settle();
    return c.json(await tracking.store.people(message.id));
  });

  return app;
}
