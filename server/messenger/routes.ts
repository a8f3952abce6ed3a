import { Hono, type Context } from 'hono';
import {
  ContactEmailBody,
  ConversationSeenBody,
  MessengerBootBody,
  MessengerEventBody,
  MessengerVisitBody,
  SendMessageBody,
  StartConversationBody,
} from '../../api/schemas.ts';
import type { EventRecorded, MessengerBootResult } from '../../api/types.ts';
import type { AppContext } from '../context.ts';
import { idParam, jsonBody, notFound } from '../http/json-body.ts';
import { conversationStarted, messageAdded, toWidget } from './conversations.ts';
import { channels } from './hub.ts';
import { firstName, identify, renderGreeting } from './identify.ts';
import { showInApp } from './in-app.ts';
import { LIMITS } from './rate-limit.ts';
import { ipRateLimit, messengerOrigins, requestIp, tooMany } from './request-guards.ts';
import { checkSession, newSecret, requireVisitor, scopeOf, streamToken } from './session.ts';
import { pullStream, resumeFrom } from './sse-pull.ts';
import type { VisitorRecord } from '../store/store.ts';
import { recordLeadVisit } from './visits.ts';

const CONVERSATIONS_SHOWN = 20;

/** The widget's routes, called cross-site from the customer's pages: /messenger/*. */
export function messengerRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  const m = ctx.messenger;
  const { store } = m;
  const trustedProxies = new Set(ctx.config.trustedProxies);

  app.use('*', ...messengerOrigins(ctx), ipRateLimit(ctx));

  /** A visitor about to write: their session, within their write budget. */
  async function writer(c: Context): Promise<VisitorRecord | Response> {
    const visitor = await requireVisitor(c, store);
    const wait = m.limits.hit(`visitor:${visitor.id}`, LIMITS.writesPerVisitor);
    return wait ? tooMany(c, wait, 'messages from this visitor') : visitor;
  }

  app.post('/boot', async (c) => {
    const body = await jsonBody(c, MessengerBootBody);
    const settings = await ctx.store.getSettings();
    const who = await identify(body, { store, keys: ctx.keys, settings, gpc: c.req.header('sec-gpc') === '1' });

    let visitor = body.session ? await checkSession(store, body.session.id, body.session.secret) : null;
    let session: MessengerBootResult['session'];
    if (!visitor) {
      const wait = m.limits.hit(`sessions:${requestIp(c, trustedProxies)}`, LIMITS.sessionsPerIp);
      if (wait) return tooMany(c, wait, 'new visitors from this address');
      const { secret, hash } = newSecret();
      visitor = await store.createVisitor(hash);
      session = { id: visitor.id, secret };
    }
    // The visitor is greeted at once; the team learns who it is once the click is judged.
    const settled = who && who.confirmAt === null ? who : null;
    await store.setVisitorIdentity(visitor.id, settled?.identity ?? null);
    visitor = { ...visitor, identity: settled?.identity ?? null };
    const visit = body.url ? { url: body.url, referrer: body.referrer ?? null } : null;
    if (who?.confirmAt) m.pending.wait(visitor.id, who, visit);
    else m.pending.forget(visitor.id);

    if (settled && visit) {
      await recordLeadVisit(m, { visitorId: visitor.id, identity: settled.identity, person: settled.person, ...visit });
    }
    const first = firstName(who?.person.name ?? null);
    const result: MessengerBootResult = {
      ...(session ? { session } : {}),
      visitorId: visitor.id,
      greeting: renderGreeting(settings.messengerGreeting, first),
      intro: settings.messengerIntro,
      firstName: first,
      identifiedBy: who?.identity.identifiedBy ?? null,
      streamToken: streamToken.sign(ctx.keys, visitor.id),
      conversations: (await store.visibleConversations(scopeOf(visitor), CONVERSATIONS_SHOWN)).map(toWidget),
      // Only a settled identity counts for an audience: a click still being judged (perhaps a
      // scanner's sandboxed browser) is an anonymous visitor to in-app messages until it is.
      // A verified identity is this boot's signed user id.
      inApp: await showInApp(ctx, visitor.id, settled && { ...settled, userId: settled.identity.identifiedBy === 'verified' ? (body.user?.userId ?? null) : null }),
      // Someone greeted by name, even on a click still being judged, is mailed at the lead's address once it is.
      askEmailForReplies: settings.replyByEmailAfterMinutes !== null && !who && !visitor.hasContactEmail,
    };
    return c.json(result);
  });

  // The visitor closed an in-app card (InAppCard.dismissUrl): the team sees it in the people rows.
  app.post('/in-app/:id/dismiss', async (c) => {
    const visitor = await writer(c);
    if (visitor instanceof Response) return visitor;
    if (!(await store.dismissInApp(idParam(c), visitor.id, Date.now()))) throw notFound('in-app message shown to this visitor');
    return c.body(null, 204);
  });

  // A page change without a reload (single-page sites): boot records the first page.
  app.post('/visits', async (c) => {
    const visitor = await writer(c);
    if (visitor instanceof Response) return visitor;
    const body = await jsonBody(c, MessengerVisitBody);
    const person = visitor.identity && (await store.getPerson(visitor.identity.personId));
    if (visitor.identity && person) {
      await recordLeadVisit(m, { visitorId: visitor.id, identity: visitor.identity, person, url: body.url, referrer: body.referrer ?? null });
    }
    return c.body(null, 204);
  });

  app.get('/conversations', async (c) => {
    const visitor = await requireVisitor(c, store);
    return c.json((await store.visibleConversations(scopeOf(visitor), CONVERSATIONS_SHOWN)).map(toWidget));
  });

  app.post('/conversations', async (c) => {
    const visitor = await writer(c);
    if (visitor instanceof Response) return visitor;
    const body = await jsonBody(c, StartConversationBody);
    const { conversation, created } = await store.startConversation({
      visitorId: visitor.id,
      identity: visitor.identity,
      pageUrl: body.pageUrl ?? null,
      body: body.body,
      clientId: body.clientId,
      at: Date.now(),
    });
    // A retried start (same clientId) must name a conversation this visitor may see.
    if (!created && !(await visibleTo(visitor, conversation.id))) throw notFound('conversation');
    if (created) await conversationStarted(m, conversation);
    return c.json(toWidget(conversation), created ? 201 : 200);
  });

  /** The conversation, without its messages, when this visitor may see it. */
  async function visibleTo(visitor: VisitorRecord, conversationId: number) {
    const scope = scopeOf(visitor);
    const c = await store.getConversationHead(conversationId);
    if (!c) return null;
    const visible =
      c.identifiedBy === 'verified' ? c.person?.id === scope.verifiedPersonId : c.visitorId === scope.visitorId;
    return visible ? c : null;
  }

  app.get('/conversations/:id', async (c) => {
    const visitor = await requireVisitor(c, store);
    const visible = await visibleTo(visitor, idParam(c));
    const conversation = visible && (await store.getConversation(visible.id));
    if (!conversation) throw notFound('conversation');
    return c.json(toWidget(conversation));
  });

  app.post('/conversations/:id/messages', async (c) => {
    const visitor = await writer(c);
    if (visitor instanceof Response) return visitor;
    const conversation = await visibleTo(visitor, idParam(c));
    if (!conversation) throw notFound('conversation');
    const body = await jsonBody(c, SendMessageBody);
    const { message, created } = await store.addMessage(conversation.id, {
      author: 'visitor',
      body: body.body,
      clientId: body.clientId,
      at: Date.now(),
    });
    if (message.conversationId !== conversation.id) throw notFound('conversation');
    if (created) await messageAdded(m, conversation, message);
    return c.json(message, created ? 201 : 200);
  });

  // The visitor has seen the thread up to a message (the panel open on it, the tab showing):
  // replies seen are never mailed (replies by email).
  app.post('/conversations/:id/seen', async (c) => {
    const visitor = await requireVisitor(c, store);
    const wait = m.limits.hit(`seen:${visitor.id}`, LIMITS.seenPerVisitor);
    if (wait) return tooMany(c, wait, 'seen receipts from this visitor');
    const conversation = await visibleTo(visitor, idParam(c));
    if (!conversation) throw notFound('conversation');
    const { through } = await jsonBody(c, ConversationSeenBody);
    await store.markConversationSeen(conversation.id, through);
    return c.body(null, 204);
  });

  // An address for the replies the visitor misses: theirs alone, not an identity (nobody is
  // merged or named by it). The team sees it on the conversations of this session.
  app.post('/contact-email', async (c) => {
    const visitor = await writer(c);
    if (visitor instanceof Response) return visitor;
    const { email } = await jsonBody(c, ContactEmailBody);
    await store.setContactEmail(visitor.id, email);
    return c.body(null, 204);
  });

  app.post('/events', async (c) => {
    const visitor = await writer(c);
    if (visitor instanceof Response) return visitor;
    const { name } = await jsonBody(c, MessengerEventBody);
    if (!visitor.identity) {
      if (m.pending.keepEvent(visitor.id, { name, at: Date.now() })) {
        return c.json({ recorded: false, goalsCompleted: 0, pending: true } satisfies EventRecorded, 202);
      }
      // An anonymous visitor's event names nobody, so it can reach no one's goal.
      return c.json({ recorded: false, goalsCompleted: 0 } satisfies EventRecorded, 202);
    }
    const { goalsCompleted } = await store.recordPersonEvent({
      personId: visitor.identity.personId,
      name,
      source: 'widget',
      at: Date.now(),
    });
    return c.json({ recorded: true, goalsCompleted } satisfies EventRecorded, 202);
  });

  app.get('/stream', async (c) => {
    const visitorId = streamToken.verify(ctx.keys, c.req.query('token') ?? '');
    const visitor = visitorId === null ? null : await store.getVisitor(visitorId);
    if (!visitor) return c.json({ error: 'stream token missing, expired or invalid: boot again' }, 401);
    const scope = scopeOf(visitor);
    const after = await resumeFrom(c, () => store.lastMessageId());
    return pullStream(c, {
      hub: m.hub,
      channels: [
        channels.visitor(scope.visitorId),
        ...(scope.verifiedPersonId === null ? [] : [channels.verifiedPerson(scope.verifiedPersonId)]),
      ],
      after,
      read: (from, limit) => store.visibleMessagesAfter(scope, from, limit),
      event: () => 'message',
    });
  });

  return app;
}
