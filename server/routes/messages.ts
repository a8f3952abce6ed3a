import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Channel, Delivery, Message, MessageCreated, MessageSummary, SendRefused } from '../../api/types.ts';
import { AddRecipientsBody, CreateMessageBody, PatchMessageBody, SendOptionsBody, TestSendBody } from '../../api/schemas.ts';
import type { AppContext } from '../context.ts';
import { personalise } from '../delivery/personalise.ts';
import { sendMessage, sendTest, ValuesMissing, type SendDeps } from '../delivery/send.ts';
import { badRequest, idParam, jsonBody, limitQuery, notFound } from '../http/json-body.ts';
import { compileMessage } from '../rewrite/compile.ts';
import type { CompiledMessage } from '../rewrite/template.ts';
import type { DraftChange, MessageRecord, Store } from '../store/store.ts';

const statusOf = (m: MessageRecord) => (m.sentAt === null ? 'draft' : 'sent');

function toMessage(m: MessageRecord, delivery: Delivery): Message {
  return {
    id: m.id,
    subject: m.subject,
    html: m.html,
    text: m.text,
    channel: m.channel,
    kind: m.kind,
    status: statusOf(m),
    from: m.from,
    replyTo: m.replyTo,
    goal: m.goal,
    createdAt: new Date(m.createdAt).toISOString(),
    sentAt: m.sentAt === null ? null : new Date(m.sentAt).toISOString(),
    links: m.links,
    warnings: m.compiled.warnings ?? [],
    delivery,
  };
}

/** `?allowMissing=false` or a body `{"allowMissing": false}`; neither: true (send, and say what was missing). */
async function allowMissingOf(c: Context): Promise<boolean> {
  const query = c.req.query('allowMissing');
  if (query !== undefined && query !== 'true' && query !== 'false') throw badRequest('allowMissing must be true or false');
  const body = (await c.req.text()).trim() ? await jsonBody(c, SendOptionsBody) : {};
  return body.allowMissing ?? query !== 'false';
}

/** From, Reply-To and kind are an email's: given for another channel, a 400 that says so. */
function emailOnly(channel: Channel, body: { from?: unknown; replyTo?: unknown; kind?: unknown }): void {
  if (channel === 'email') return;
  const given = (['from', 'replyTo', 'kind'] as const).find((k) => body[k] !== undefined);
  if (given) throw badRequest(`${given}: only an email message has one (this one is ${channel})`);
}

/** An edit or deletion that found the message sent or gone. */
function refused(change: Exclude<DraftChange, 'done'>, what: 'edited' | 'deleted'): HTTPException {
  if (change === 'missing') return notFound('message');
  return new HTTPException(409, { message: `message already sent: only a draft can be ${what}` });
}

async function compileFor(store: Store, m: { subject: string; html: string; text: string | null; channel: Channel }): Promise<CompiledMessage> {
  const settings = await store.getSettings();
  return compileMessage(
    m.html,
    m.text,
    { clickTracking: settings.clickTracking, universalLinkDomains: settings.universalLinkDomains, textFromHtml: m.channel === 'email' },
    m.subject,
  );
}

export function messageRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  const { store } = ctx;
  const deps: SendDeps = { store, mailer: ctx.mailer, keys: ctx.keys, publicUrl: ctx.config.publicUrl, from: ctx.config.from };

  async function messageOr404(id: number): Promise<MessageRecord> {
    const message = await store.getMessage(id);
    if (!message) throw notFound('message');
    return message;
  }

  app.post('/', async (c) => {
    const body = await jsonBody(c, CreateMessageBody);
    emailOnly(body.channel, body);
    const text = body.text ?? null;
    const compiled = await compileFor(store, { ...body, text });
    const message = await store.createMessage({
      subject: body.subject,
      html: body.html,
      text,
      channel: body.channel,
      kind: body.kind ?? 'marketing',
      from: body.from ?? null,
      replyTo: body.replyTo ?? null,
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
      messages.map(async (m) => {
        const { recipients, sent } = await store.delivery(m.id);
        return {
          id: m.id,
          subject: m.subject,
          channel: m.channel,
          kind: m.kind,
          status: statusOf(m),
          createdAt: new Date(m.createdAt).toISOString(),
          recipients,
          sent,
          ...headlines.get(m.id)!,
        };
      }),
    );
    return c.json(list);
  });

  app.get('/:id', async (c) => {
    const message = await messageOr404(idParam(c));
    return c.json(toMessage(message, await store.delivery(message.id)));
  });

  // A draft only: the store refuses the change once a send has started, whichever comes first.
  app.patch('/:id', async (c) => {
    const message = await messageOr404(idParam(c));
    const body = await jsonBody(c, PatchMessageBody);
    emailOnly(message.channel, body);
    if (message.sentAt !== null) throw refused('sent', 'edited');
    const next = {
      subject: body.subject ?? message.subject,
      html: body.html ?? message.html,
      text: body.text === undefined ? message.text : body.text,
      channel: message.channel,
      kind: body.kind ?? message.kind,
      from: body.from === undefined ? message.from : body.from,
      replyTo: body.replyTo === undefined ? message.replyTo : body.replyTo,
      goal: body.goal === undefined ? message.goal : body.goal,
    };
    const change = await store.updateDraft(message.id, { ...next, compiled: await compileFor(store, next) });
    if (change !== 'done') throw refused(change, 'edited');
    ctx.tracking.forgetLinks();
    return c.json(toMessage(await messageOr404(message.id), await store.delivery(message.id)));
  });

  app.delete('/:id', async (c) => {
    const change = await store.deleteDraft(idParam(c));
    if (change !== 'done') throw refused(change, 'deleted');
    ctx.tracking.forgetLinks();
    ctx.tracking.forgetRecipients();
    return c.body(null, 204);
  });

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
    try {
      return c.json(await sendMessage(message, deps, { allowMissing }));
    } catch (err) {
      if (!(err instanceof ValuesMissing)) throw err;
      return c.json({ error: err.message, warnings: err.warnings } satisfies SendRefused, 409);
    }
  });

  // Drafts and sent messages alike: nothing is claimed or recorded, the status stays as it is.
  app.post('/:id/test', async (c) => {
    const message = await messageOr404(idParam(c));
    const body = await jsonBody(c, TestSendBody);
    if (message.channel !== 'email') throw badRequest(`only an email message can be sent as a test (this one is ${message.channel})`);
    const as = body.as === undefined ? await store.firstRecipient(message.id) : await store.findRecipient(message.id, body.as);
    if (body.as !== undefined && !as) throw notFound('recipient');
    try {
      return c.json(await sendTest(message, as, body.email, deps));
    } catch (err) {
      // The mail server's own words, to the team that asked for the test.
      throw new HTTPException(502, { message: `the test mail was not sent: ${err instanceof Error ? err.message : String(err)}` });
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
