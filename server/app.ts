import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppContext } from './context.ts';
import { adminAuth } from './middleware/admin-auth/admin-auth.ts';
import { messageRoutes } from './routes/messages.ts';
import { settingsRoutes } from './routes/settings.ts';

const MAX_BODY_BYTES = 2 * 1024 * 1024;

export function createApp(ctx: AppContext): Hono {
  const app = new Hono();

  app.use('/api/*', adminAuth(ctx.config.adminToken));
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json({ error: `body larger than ${MAX_BODY_BYTES} bytes` }, 413),
    }),
  );
  app.route('/api/messages', messageRoutes(ctx));
  app.route('/api/settings', settingsRoutes(ctx));

  app.notFound((c) =>
    c.req.path.startsWith('/api/') ? c.json({ error: 'no such route' }, 404) : c.text('Not found', 404),
  );
  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      return c.json({ error: err.message }, err.status as ContentfulStatusCode);
    }
    // Details stay in the server log; the client learns only that it was our fault.
    console.error(`[clicktrail] ${c.req.method} ${c.req.path}:`, err);
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
