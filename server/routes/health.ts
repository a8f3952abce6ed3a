import { Hono } from 'hono';
import type { Health } from '../../api/types.ts';
import type { AppContext } from '../context.ts';

/** For operators and the benchmark: is the click queue keeping up? */
export function healthRoutes({ tracking }: AppContext): Hono {
  const app = new Hono();
  app.get('/', (c) => {
    return c.json({ clicks: tracking.counts } satisfies Health);
  });
  return app;
}
