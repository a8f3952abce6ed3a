import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { ConversationMessage, TeamEvent, WidgetConversation } from '../../api/types.ts';
import { useTestServer, type TestServer } from '../support/server.ts';
import { sqlValue } from '../support/sql.ts';
import { allowSite, boot, michelleClicked, SITE, sseReader, widgetCall } from './support.ts';

let s: TestServer;
useTestServer(async (server) => {
  s = server;
  await allowSite(server);
});

const notifications = async (after = 0) =>
  (await (await s.api('GET', `/api/notifications?after=${after}`)).json()) as TeamEvent[];

describe('lead visits', () => {
  it('tells the team once per lead and page within a few minutes, with the message and link that identified them', async () => {
    const { cookie, messageId, link } = await michelleClicked(s);
    await boot(s, { identity: cookie, url: `${SITE}/beans#top`, referrer: 'https://mail.example/' });
    await boot(s, { identity: cookie, url: `${SITE}/beans` }); // a reload
    await boot(s, { identity: cookie, url: `${SITE}/checkout` });
    await boot(s, { url: `${SITE}/beans` }); // anonymous: nobody to tell about

    const visits = (await notifications()).filter((e) => e.type === 'lead.visit');
    expect(visits.map((e) => e.type === 'lead.visit' && e.url)).toEqual([`${SITE}/beans`, `${SITE}/checkout`]);
    expect(visits[0]).toMatchObject({
      person: { name: 'Michelle Obama', email: 'michelle@shop.test' },
      identifiedBy: 'email-click',
      referrer: 'https://mail.example/',
      messageId,
      messageSubject: 'Our autumn beans',
      linkId: link.id,
      linkUrl: `${SITE}/beans`,
    });
    // Every page load is still recorded.
    expect(await sqlValue(s, 'SELECT count(*) FROM visits')).toBe(3);
  });

  it('records single-page navigations through /messenger/visits', async () => {
    const { cookie } = await michelleClicked(s);
    const { session } = await boot(s, { identity: cookie, url: `${SITE}/` });
    const res = await widgetCall(s, 'POST', '/messenger/visits', { session, body: { url: `${SITE}/cart` } });
    expect(res.status).toBe(204);
    expect((await notifications()).map((e) => e.type === 'lead.visit' && e.url)).toEqual([`${SITE}/`, `${SITE}/cart`]);
  });
});

describe('team stream and notifications', () => {
  it('streams new events live and resumes after Last-Event-ID without duplicates', async () => {
    const live = sseReader(await s.api('GET', '/api/stream'));
    const { cookie } = await michelleClicked(s);
    const { session } = await boot(s, { identity: cookie });
    const started = (await (
      await widgetCall(s, 'POST', '/messenger/conversations', { session, body: { body: 'Hello?', clientId: 'first-message-1' } })
    ).json()) as WidgetConversation;

    const visit = await live.next();
    expect(visit.event).toBe('lead.visit');
    const created = await live.next();
    expect(created.event).toBe('conversation.created');
    expect(JSON.parse(created.data)).toMatchObject({
      type: 'conversation.created',
      conversation: { id: started.id, identifiedBy: 'email-click', person: { name: 'Michelle Obama' }, lastMessage: 'Hello?' },
    });
    expect(Number(created.id)).toBeGreaterThan(Number(visit.id));
    await live.close();

    await s.api('POST', `/api/conversations/${started.id}/replies`, { body: 'Hi Michelle!' });
    const resumed = sseReader(await s.api('GET', '/api/stream', undefined, { 'last-event-id': created.id! }));
    const missed = await resumed.next();
    expect(missed.event).toBe('conversation.message');
    expect(JSON.parse(missed.data)).toMatchObject({ conversationId: started.id, message: { author: 'team', body: 'Hi Michelle!' } });
    await resumed.close();

    const all = await notifications();
    expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort((a, b) => a - b));
    expect(all.map((e) => e.type)).toEqual(['lead.visit', 'conversation.created', 'conversation.message']);
    expect(await notifications(Number(created.id))).toEqual(all.slice(2));
    expect((await s.api('GET', '/api/notifications?after=-1')).status).toBe(400);
    expect((await s.app.request('/api/stream')).status).toBe(401);
  });

  it('delivers a team reply live to the visitor’s stream, and only to browsers that may see it', async () => {
    const { cookie } = await michelleClicked(s);
    const mine = await boot(s, { identity: cookie });
    const stranger = await boot(s, { identity: cookie });
    const conv = (await (
      await widgetCall(s, 'POST', '/messenger/conversations', { session: mine.session, body: { body: 'Question', clientId: 'question-0001' } })
    ).json()) as WidgetConversation;

    const myStream = sseReader(await widgetCall(s, 'GET', `/messenger/stream?token=${mine.streamToken}`));
    const theirStream = sseReader(await widgetCall(s, 'GET', `/messenger/stream?token=${stranger.streamToken}`));
    await s.api('POST', `/api/conversations/${conv.id}/replies`, { body: 'Answer' });
    const event = await myStream.next();
    expect(event.event).toBe('message');
    expect(JSON.parse(event.data) as ConversationMessage).toMatchObject({ conversationId: conv.id, author: 'team', body: 'Answer' });
    await expect(theirStream.next(300)).rejects.toThrow('no event in time');
    await myStream.close();
    await theirStream.close();

    const bad = await widgetCall(s, 'GET', `/messenger/stream?token=${mine.streamToken.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))}`);
    expect(bad.status).toBe(401);
  });
});

describe('webhook', () => {
  it('receives each event as signed JSON, retried with backoff until the receiver takes it', async () => {
    const received: { body: string; headers: IncomingMessage['headers']; status: number }[] = [];
    let failuresLeft = 2;
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const status = failuresLeft-- > 0 ? 503 : 204;
        received.push({ body, headers: req.headers, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;

    // Events from before the webhook was set are not owed to it.
    await s.api('POST', '/api/events', { email: 'x@shop.test', name: 'noop' });
    const { cookie } = await michelleClicked(s);
    await boot(s, { identity: cookie, url: `${SITE}/old` });
    await s.ctx.messenger.webhooks.idle();

    s.ctx.messenger.webhooks.retryBaseMs = 20;
    const settings = (await (await s.api('PATCH', '/api/settings', { webhookUrl: url })).json()) as { webhookSecret: string };
    await boot(s, { identity: cookie, url: `${SITE}/new` });
    await boot(s, { identity: cookie, url: `${SITE}/newer` });
    await expect.poll(() => received.filter((r) => r.status === 204).length, { timeout: 5000 }).toBe(2);

    expect(received.map((r) => r.status)).toEqual([503, 503, 204, 204]);
    const delivered = received.filter((r) => r.status === 204).map((r) => JSON.parse(r.body) as TeamEvent);
    expect(delivered.map((e) => e.type === 'lead.visit' && e.url)).toEqual([`${SITE}/new`, `${SITE}/newer`]);
    for (const r of received) {
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(r.headers['x-clicktrail-signature']))!;
      expect(m).not.toBeNull();
      expect(m[2]).toBe(createHmac('sha256', settings.webhookSecret).update(`${m[1]}.${r.body}`).digest('hex'));
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-clicktrail-event']).toBe('lead.visit');
    }
    // The same delivery id on every retry, so a receiver can drop duplicates.
    expect(new Set(received.slice(0, 3).map((r) => r.headers['x-clicktrail-delivery'])).size).toBe(1);
    hook.close();
  });

  it('refuses a webhook URL that is not http(s)', async () => {
    const res = await s.api('PATCH', '/api/settings', { webhookUrl: 'ftp://example.com/x' });
    expect(res.status).toBe(400);
    expect((await s.api('PATCH', '/api/settings', { webhookUrl: null })).status).toBe(200);
  });
});
