import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ApiError, Channel, Delivery, Message, MessageCreated, MessageSummary, PushContent, PushPayload, SendRefused, SendResult } from '../../api/types.ts';
import { AddRecipientsBody, CreateMessageBody, PatchMessageBody, SendOptionsBody, TestSendBody } from '../../api/schemas.ts';
import type { AppContext } from '../context.ts';
import { personalise, pushPayload } from '../delivery/personalise.ts';
import { sendMessage, sendTest, ValuesMissing, type SendDeps } from '../delivery/send.ts';
import { badRequest, idParam, jsonBody, limitQuery, notFound } from '../http/json-body.ts';
import { compileMessage, compilePush, refusedScheme } from '../rewrite/compile.ts';
import type { CompiledMessage, CompileOptions } from '../rewrite/template.ts';
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
    audience: m.audience,
    push: m.push,
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

/** From, Reply-To and kind are an email's: given for another channel, a 400 that says so. */
function emailOnly(channel: Channel, body: { from?: unknown; replyTo?: unknown; kind?: unknown; text?: unknown }): void {
  if (channel === 'email') return;
  const given = (['from', 'replyTo', 'kind', 'text'] as const).find((k) => body[k] !== undefined);
  if (given) throw badRequest(`${given}: only an email message has one (this one is ${channel})`);
}

/** An edit or deletion that found the message sent or gone. */
function refused(change: Exclude<DraftChange, 'done'>, what: 'edited' | 'deleted'): HTTPException {
  if (change === 'missing') return notFound('message');
  return new HTTPException(409, { message: `message already sent: only a draft can be ${what}` });
}

/**
 * The message's link placements, as its channel has them: an email's HTML and text part (one
 * made from the HTML when it has none); an in-app card's HTML with deep links; a push's uri.
 */
async function compileFor(
  store: Store,
  m: { subject: string; html: string; text: string | null; channel: Channel; push: PushContent | null },
): Promise<CompiledMessage> {
  const settings = await store.getSettings();
  const opts: CompileOptions = { clickTracking: settings.clickTracking, universalLinkDomains: settings.universalLinkDomains };
  if (m.channel === 'email') return compileMessage(m.html, m.text, { ...opts, textFromHtml: true }, m.subject);
  const apps: CompileOptions = { ...opts, deepLinkSchemes: settings.deepLinkSchemes };
  if (m.channel === 'in_app') {
    const compiled = compileMessage(m.html, null, apps, m.subject);
    refuseOtherSchemes(compiled.links, settings.deepLinkSchemes, (i) => `html: link ${i}`);
    return compiled;
  }
  const compiled = compilePush(m.push!, apps);
  refuseOtherSchemes(compiled.links, settings.deepLinkSchemes, () => 'push.uri');
  if (compiled.links[0]!.reason === 'not-http') {
    throw badRequest(`push.uri: ${shorten(m.push!.uri)}: must be an absolute http(s) URL or a deep link such as myapp://orders/42`);
  }
  return compiled;
}

export function messageRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  const { store } = ctx;
  const deps: SendDeps = { store, mailer: ctx.mailer, keys: ctx.keys, publicUrl: ctx.config.publicUrl, from: ctx.config.from, node: ctx.config.nodeId };

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
    const email = body.channel === 'email' ? body : null;
    const fields = {
      subject: body.subject,
      html: body.channel === 'push' ? '' : body.html,
      text: email?.text ?? null,
      channel: body.channel,
      push: body.channel === 'push' ? body.push : null,
    };
    const compiled = await compileFor(store, fields);
    const message = await store.createMessage({
      ...fields,
      kind: email?.kind ?? 'marketing',
      from: email?.from ?? null,
      replyTo: email?.replyTo ?? null,
      goal: body.goal ?? null,
      audience: body.channel === 'in_app' ? body.audience : null,
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
    if (message.channel === 'push' && body.html !== undefined) throw badRequest('html: a push message has none (its title, body and uri are set when it is created)');
    if (message.sentAt !== null) throw refused('sent', 'edited');
    const next = {
      subject: body.subject ?? message.subject,
      html: body.html ?? message.html,
      text: body.text === undefined ? message.text : body.text,
      channel: message.channel,
      push: message.push,
      audience: message.audience,
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
      return c.json({ sent: 0, failed: 0, failures: [], skipped: 0, skips: [], warnings: [] } satisfies SendResult);
    }
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
