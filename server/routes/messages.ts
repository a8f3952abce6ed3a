import { Hono, type Context } from 'hono';
import type { ApiError, Message, MessageCreated, MessageSummary, PushPayload, SendRefused, SendResult } from '../../api/types.ts';
import { AddRecipientsBody, CreateMessageBody, SendOptionsBody } from '../../api/schemas.ts';
import type { AppContext } from '../context.ts';
import { personalise, pushPayload } from '../delivery/personalise.ts';
import { sendMessage, ValuesMissing } from '../delivery/send.ts';
import { badRequest, idParam, jsonBody, limitQuery, notFound } from '../http/json-body.ts';
import { compileMessage, compilePush, refusedScheme } from '../rewrite/compile.ts';
import type { CompiledMessage, CompileOptions } from '../rewrite/template.ts';
import type { MessageRecord } from '../store/store.ts';

const status = (m: MessageRecord) => (m.sentAt === null ? 'draft' : 'sent');

function toMessage(m: MessageRecord): Message {
  return {
    id: m.id,
    subject: m.subject,
    html: m.html,
    text: m.text,
    channel: m.channel,
    status: status(m),
    audience: m.audience,
    push: m.push,
    goal: m.goal,
    createdAt: new Date(m.createdAt).toISOString(),
    sentAt: m.sentAt === null ? null : new Date(m.sentAt).toISOString(),
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

const shorten = (url: string) => (url.length > 200 ? `${url.slice(0, 200)}…` : url);

/**
 * An in-app card or a push goes to an app and a page, not to a mail client: a link may be
 * http(s) or a deep link of the apps' own schemes (settings.deepLinkSchemes), nothing else.
 */
function refuseOtherSchemes(links: readonly { url: string }[], deepLinkSchemes: readonly string[], where: (i: number) => string): void {
  for (const [i, link] of links.entries()) {
    const scheme = refusedScheme(link.url, deepLinkSchemes);
    if (scheme === null) continue;
    const allowed = deepLinkSchemes.length ? `http, https or ${deepLinkSchemes.join(', ')}` : 'http or https (add app schemes to settings.deepLinkSchemes)';
    throw badRequest(`${where(i)}: ${shorten(link.url)}: the scheme ${scheme}: is not allowed here, only ${allowed}`);
  }
}

export function messageRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  const { store } = ctx;

  async function messageOr404(id: number): Promise<MessageRecord> {
    const message = await store.getMessage(id);
    if (!message) throw notFound('message');
    return message;
  }

  async function linkContext() {
    return { keys: ctx.keys, publicUrl: ctx.config.publicUrl, mergeTagHosts: (await store.getSettings()).mergeTagHosts };
  }

  app.post('/', async (c) => {
    const body = await jsonBody(c, CreateMessageBody);
    const settings = await store.getSettings();
    const opts: CompileOptions = { clickTracking: settings.clickTracking, universalLinkDomains: settings.universalLinkDomains };
    const apps: CompileOptions = { ...opts, deepLinkSchemes: settings.deepLinkSchemes };
    let compiled: CompiledMessage;
    if (body.channel === 'email') {
      compiled = compileMessage(body.html, body.text ?? null, opts, body.subject);
    } else if (body.channel === 'in_app') {
      compiled = compileMessage(body.html, null, apps, body.subject);
      refuseOtherSchemes(compiled.links, settings.deepLinkSchemes, (i) => `html: link ${i}`);
    } else {
      compiled = compilePush(body.push, apps);
      refuseOtherSchemes(compiled.links, settings.deepLinkSchemes, () => 'push.uri');
      if (compiled.links[0]!.reason === 'not-http') {
        throw badRequest(`push.uri: ${shorten(body.push.uri)}: must be an absolute http(s) URL or a deep link such as myapp://orders/42`);
      }
    }
    const message = await store.createMessage({
      subject: body.subject,
      html: body.channel === 'push' ? '' : body.html,
      text: body.channel === 'email' ? (body.text ?? null) : null,
      channel: body.channel,
      goal: body.goal ?? null,
      audience: body.channel === 'in_app' ? body.audience : null,
      push: body.channel === 'push' ? body.push : null,
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
        status: status(m),
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
    if (message.channel === 'in_app') {
      return c.json({ error: 'an in-app message is shown to its audience (set when it is created): it takes no recipients' } satisfies ApiError, 409);
    }
    const body = await jsonBody(c, AddRecipientsBody);
    const result = await store.addRecipients(message.id, body.recipients);
    ctx.tracking.forgetRecipients();
    return c.json(result);
  });

  /**
   * Emails are mailed. An in-app message is published: the widget shows it from then on, at
   * each page load of a person in its audience (it mails no one: the result is all zeros). A
   * push message is refused: Clicktrail hands out its payloads, the team's APNs or FCM sends them.
   */
  app.post('/:id/send', async (c) => {
    const message = await messageOr404(idParam(c));
    if (message.channel === 'push') {
      const error = `a push message is not sent from here: fetch each recipient's payload from GET /api/messages/${message.id}/push?email=… and hand it to APNs or FCM`;
      return c.json({ error } satisfies ApiError, 409);
    }
    const allowMissing = await allowMissingOf(c);
    if (message.channel === 'in_app') {
      await store.markMessageSent(message.id, Date.now());
      return c.json({ sent: 0, failed: 0, failures: [], warnings: [] } satisfies SendResult);
    }
    const deps = { ...ctx, ...(await linkContext()), from: ctx.config.from };
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
    return c.html(personalise(message, recipient, await linkContext()).html);
  });

  /** The payload for one recipient, to hand to APNs or FCM: handing it out counts as sending (stats.sent). */
  app.get('/:id/push', async (c) => {
    const message = await messageOr404(idParam(c));
    if (message.channel !== 'push' || !message.push) {
      return c.json({ error: `message ${message.id} is ${message.channel === 'email' ? 'an email' : 'an in-app message'}, not a push message` } satisfies ApiError, 409);
    }
    const email = c.req.query('email');
    if (!email) throw badRequest('query parameter email is required');
    const recipient = await store.findRecipient(message.id, email);
    if (!recipient) throw notFound('recipient');
    const at = Date.now();
    await store.markPushed(recipient.id, at);
    await store.markMessageSent(message.id, at);
    return c.json(pushPayload({ ...message, push: message.push }, recipient, await linkContext()) satisfies PushPayload);
  });

  return app;
}
