import { Hono } from 'hono';
import type { AppContext } from '../context.ts';
import { limitQuery, notFound } from '../http/json-body.ts';

/** GET /api/suppressions (newest first) and DELETE /api/suppressions/:email: the addresses no marketing email goes to. */
export function suppressionRoutes({ store }: AppContext): Hono {
  const app = new Hono();
  app.get('/', async (c) => c.json(await store.listSuppressions(limitQuery(c, 100, 500))));
  // Lifted: a later send mails the address again, its recipients skipped so far included.
  app.delete('/:email', async (c) => {
    if (!(await store.liftSuppression(c.req.param('email')))) throw notFound('address on the suppression list');
    return c.body(null, 204);
  });
  return app;
}
