import { Hono } from 'hono';
import { TeamReplyBody } from '../../api/schemas.ts';
import type { Conversation } from '../../api/types.ts';
import type { AppContext } from '../context.ts';
import { idParam, jsonBody, limitQuery, notFound } from '../http/json-body.ts';
import { messageAdded } from '../messenger/conversations.ts';

/** The team's inbox: /api/conversations. */
export function conversationRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  const m = ctx.messenger;

  app.get('/', async (c) => {
    const limit = limitQuery(c, 50, 200);
    return c.json(await m.store.listConversations(limit));
  });

  app.get('/:id', async (c) => {
    const id = idParam(c);
    const [conversation, byEmail] = await Promise.all([m.store.getConversation(id), m.store.repliesByEmail(id)]);
    if (!conversation || !byEmail) throw notFound('conversation');
    const { visitorId, ...rest } = conversation;
    return c.json({ ...rest, ...byEmail } satisfies Conversation);
  });

  app.post('/:id/replies', async (c) => {
    // The head alone: a reply must cost the same however long the thread is.
    const conversation = await m.store.getConversationHead(idParam(c));
    if (!conversation) throw notFound('conversation');
    const { body } = await jsonBody(c, TeamReplyBody);
    const { message } = await m.store.addMessage(conversation.id, { author: 'team', body, clientId: null, at: Date.now() });
    await messageAdded(m, conversation, message);
    return c.json(message, 201);
  });

  return app;
}
