import { Hono } from 'hono';
import type { AppContext } from '../context.ts';

/** For operators and the benchmark: is the click queue keeping up? */
export function healthRoutes({ tracking }: AppContext): Hono {
  const app = new Hono();
  app.get('/', (c) => {
    const { queued, written, dropped } = tracking.recorder;
    return c.json({ clicks: { queued, written, dropped } });
  });
  return app;
}
