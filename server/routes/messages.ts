import { Hono, type Context } from 'hono';
import type { Message, MessageCreated, MessageSummary, SendRefused } from '../../api/types.ts';
import { AddRecipientsBody, CreateMessageBody, SendOptionsBody } from '../../api/schemas.ts';
import type { AppContext } from '../context.ts';
import { personalise } from '../delivery/personalise.ts';
import { sendMessage, ValuesMissing } from '../delivery/send.ts';
import { badRequest, idParam, jsonBody, limitQuery, notFound } from '../http/json-body.ts';
import { compileMessage } from '../rewrite/compile.ts';
import type { MessageRecord } from '../store/store.ts';

function toMessage(m: MessageRecord): Message {
  return {
    id: m.id,
    subject: m.subject,
    html: m.html,
    text: m.text,
    channel: m.channel,
    goal: m.goal,
    createdAt: new Date(m.createdAt).toISOString(),
    links: m.links,
    warnings: m.compiled.warnings ?? [],
  };
}

/** `?allowMissing=false` or a body `{"allowMissing": false}`; neither: true (send, and say what was missing). */
async function allowMissingOf(c: Context): Promise<boolean> {
  const query = c.req.query('allowMissing');
  if (query !== undefined && query !== 'true' && query !== 'false') throw badRequest('allowMissing must be true or false');
  const body = (await c.req.text()).trim() ? await jsonBody(c, SendOptionsBody) : {};
  return body.allowMissing ?? query !== 'false';
}

export function messageRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  const { store } = ctx;

  async function messageOr404(id: number): Promise<MessageRecord> {
    const message = await store.getMessage(id);
    if (!message) throw notFound('message');
    return message;
  }

  app.post('/', async (c) => {
    const body = await jsonBody(c, CreateMessageBody);
    const settings = await store.getSettings();
    const compiled = compileMessage(
      body.html,
      body.text ?? null,
      { clickTracking: settings.clickTracking, universalLinkDomains: settings.universalLinkDomains },
      body.subject,
    );
    const message = await store.createMessage({
      subject: body.subject,
      html: body.html,
      text: body.text ?? null,
      channel: body.channel,
      goal: body.goal ?? null,
      compiled,
    });
    return c.json({ id: message.id, links: message.links, warnings: compiled.warnings ?? [] } satisfies MessageCreated, 201);
  });

  app.get('/', async (c) => {
    const limit = limitQuery(c, 50, 200);
    const messages = await store.listMessages(limit);
    await ctx.tracking.settle();
    const headlines = await ctx.tracking.store.headlines(messages.map((m) => m.id));
    const list: MessageSummary[] = await Promise.all(
      messages.map(async (m) => ({
        id: m.id,
        subject: m.subject,
        channel: m.channel,
        createdAt: new Date(m.createdAt).toISOString(),
        ...(await store.countRecipients(m.id)),
        ...headlines.get(m.id)!,
      })),
    );
    return c.json(list);
  });

  app.get('/:id', async (c) => c.json(toMessage(await messageOr404(idParam(c)))));

  app.post('/:id/recipients', async (c) => {
    const message = await messageOr404(idParam(c));
    const body = await jsonBody(c, AddRecipientsBody);
    const result = await store.addRecipients(message.id, body.recipients);
    ctx.tracking.forgetRecipients();
    return c.json(result);
  });

  app.post('/:id/send', async (c) => {
    const message = await messageOr404(idParam(c));
    const allowMissing = await allowMissingOf(c);
    const deps = { ...ctx, publicUrl: ctx.config.publicUrl, from: ctx.config.from, mergeTagHosts: (await store.getSettings()).mergeTagHosts };
    try {
      return c.json(await sendMessage(message, deps, { allowMissing }));
    } catch (err) {
      if (!(err instanceof ValuesMissing)) throw err;
      return c.json({ error: err.message, warnings: err.warnings } satisfies SendRefused, 409);
    }
  });

  app.get('/:id/preview', async (c) => {
    const message = await messageOr404(idParam(c));
    const email = c.req.query('email');
    if (!email) throw badRequest('query parameter email is required');
    const recipient = await store.findRecipient(message.id, email);
    if (!recipient) throw notFound('recipient');
    const { mergeTagHosts } = await store.getSettings();
    return c.html(personalise(message, recipient, { keys: ctx.keys, publicUrl: ctx.config.publicUrl, mergeTagHosts }).html);
  });

  return app;
}
