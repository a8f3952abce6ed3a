import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppContext } from './context.ts';
import { adminAuth } from './middleware/admin-auth/admin-auth.ts';
import { appLinkRoutes } from './routes/app-links.ts';
import { linkRoutes } from './routes/links.ts';
import { demoPage } from './messenger/demo.ts';
import { messengerRoutes } from './messenger/routes.ts';
import { serveWidget } from './messenger/widget-script.ts';
import { messageRoutes } from './routes/messages.ts';
import { settingsRoutes } from './routes/settings.ts';
import { suppressionRoutes } from './routes/suppressions.ts';
import { unsubscribeRoutes } from './routes/unsubscribe.ts';
import { conversationRoutes } from './team/conversations.ts';
import { eventRoutes } from './team/events.ts';
import { teamStreamRoutes } from './team/stream.ts';
import { healthRoutes } from './routes/health.ts';
import { statsRoutes } from './stats/routes.ts';
import { trackingRoutes } from './tracking/routes.ts';

const MAX_BODY_BYTES = 2 * 1024 * 1024;

export function createApp(ctx: AppContext): Hono {
  const app = new Hono();

  // The redirect and the pixel first: the hot path passes no middleware.
  app.route('/', trackingRoutes(ctx));
  // Whoever opens the tracking domain itself: where the product is, not a blank page.
  app.get('/', (c) => c.text('Clicktrail link server. Write and send messages from the Clicktrail extension (New message); the HTTP API is under /api, described in the README.'));
  app.route('/.well-known', appLinkRoutes(ctx));
  // Unsubscribe links: public as the redirect is, with the small bodies a one-click POST or a form sends.
  app.use('/u/*', bodyLimit({ maxSize: 16 * 1024, onError: (c) => c.text('body larger than 16 KB', 413) }));
  app.route('/', unsubscribeRoutes(ctx));

  // The Messenger: the widget's script, its routes (called from customers' pages), the demo shop.
  app.get('/widget.js', (c) => serveWidget(c));
  app.use(
    '/messenger/*',
    bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.json({ error: 'body larger than 64 KB' }, 413) }),
  );
  app.route('/messenger', messengerRoutes(ctx));
  app.get('/demo', (c) => c.html(demoPage(ctx.config.publicUrl)));

  app.use('/api/*', adminAuth(ctx.config.adminToken));
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json({ error: `body larger than ${MAX_BODY_BYTES} bytes` }, 413),
    }),
  );
  app.route('/api/messages', messageRoutes(ctx));
  app.route('/api/messages', statsRoutes(ctx));
  app.route('/api/settings', settingsRoutes(ctx));
  app.route('/api/suppressions', suppressionRoutes(ctx));
  app.route('/api/health', healthRoutes(ctx));
  app.route('/api/conversations', conversationRoutes(ctx));
  app.route('/api/events', eventRoutes(ctx));
  app.route('/api', teamStreamRoutes(ctx));
  app.route('/api/links', linkRoutes(ctx));

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
