import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Message, MessageCreated, MessageStats, PersonStats, PushPayload } from '../../api/types.ts';
import { clickToken } from '../../server/tokens/tokens.ts';
import { useTestServer, type TestServer } from '../support/server.ts';
import { hit } from '../support/tracking.ts';
import { allowSite, boot } from '../widget/support.ts';

let s: TestServer;
useTestServer(async (server) => {
  s = server;
  await server.api('PATCH', '/api/settings', { deepLinkSchemes: ['myapp'] });
});

const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;
const ANN = { email: 'ann@shop.test', name: 'Ann Example', attributes: { order: 'A-1001' } };

async function pushMessage(uri: string, recipients = [ANN]): Promise<MessageCreated> {
  const res = await s.api('POST', '/api/messages', {
    channel: 'push',
    subject: 'Shipping notice',
    push: { title: 'Your order shipped, {{first_name}}', body: 'Order {{attributes.order}} is on its way.', uri },
  });
  expect(res.status).toBe(201);
  const created = await json<MessageCreated>(res);
  await s.api('POST', `/api/messages/${created.id}/recipients`, { recipients });
  return created;
}

const payload = (id: number, email: string) => s.api('GET', `/api/messages/${id}/push?email=${encodeURIComponent(email)}`);
const stats = (id: number) => json<MessageStats>(s.api('GET', `/api/messages/${id}/stats`));

describe('push messages', () => {
  it('take a web link or a deep link of the apps as their uri, and refuse any other at creation', async () => {
    for (const [uri, error] of [
      ['otherapp://orders/42', 'push.uri: otherapp://orders/42: the scheme otherapp: is not allowed here, only http, https or myapp'],
      ['sms:+15550100', 'push.uri: sms:+15550100: the scheme sms: is not allowed here, only http, https or myapp'],
      ['/orders/42', 'push.uri: /orders/42: must be an absolute http(s) URL or a deep link such as myapp://orders/42'],
    ]) {
      const res = await s.api('POST', '/api/messages', { channel: 'push', subject: 'x', push: { title: 't', body: 'b', uri } });
      expect(res.status, uri).toBe(400);
      expect((await json<{ error: string }>(res)).error).toBe(error);
    }
    const { id, links } = await pushMessage('myapp://orders/{{attributes.order}}');
    expect(links).toEqual([{ id: expect.any(Number), url: 'myapp://orders/{{attributes.order}}', position: 0, text: 'Your order shipped, {{first_name}}', tracked: true, part: 'text' }]);
    expect(await json<Message>(s.api('GET', `/api/messages/${id}`))).toMatchObject({
      channel: 'push',
      html: '',
      status: 'draft',
      push: { title: 'Your order shipped, {{first_name}}', body: 'Order {{attributes.order}} is on its way.', uri: 'myapp://orders/{{attributes.order}}' },
    });
  });

  it('are never mailed: send says where the payloads are', async () => {
    const { id } = await pushMessage('https://www.shop.test/orders/42');
    const res = await s.api('POST', `/api/messages/${id}/send`);
    expect(res.status).toBe(409);
    expect((await json<{ error: string }>(res)).error).toBe(
      `a push message is not sent from here: fetch each recipient's payload from GET /api/messages/${id}/push?email=… and hand it to APNs or FCM`,
    );
    const outbox = s.ctx.config.outbox;
    expect(existsSync(outbox) ? readdirSync(outbox) : []).toEqual([]);
    expect((await stats(id)).sent).toBe(0);
  });

  it("hand out each recipient's payload with a tracked uri that verifies and redirects, counted as sent", async () => {
    const { id, links } = await pushMessage('myapp://orders/{{attributes.order}}', [ANN, { email: 'bob@shop.test', name: 'Bob', attributes: { order: 'B-7' } }]);
    expect((await stats(id)).sent).toBe(0);

    const res = await payload(id, 'Ann@shop.test');
    expect(res.status).toBe(200);
    const ann = await json<PushPayload>(res);
    expect(ann).toEqual({ title: 'Your order shipped, Ann', body: 'Order A-1001 is on its way.', uri: expect.stringMatching(/^http:\/\/links\.shop\.test\/c\/[A-Za-z0-9_-]+$/) });
    const recipient = (await s.ctx.store.findRecipient(id, 'ann@shop.test'))!;
    const token = new URL(ann.uri).pathname.slice(3);
    expect(clickToken.verify(s.ctx.keys, token)).toEqual({ recipientId: recipient.id, linkId: links[0]!.id });
    expect((await stats(id)).sent).toBe(1);
    expect(await json<Message>(s.api('GET', `/api/messages/${id}`))).toMatchObject({ status: 'sent' });

    // Tapped the moment it arrives: a push is no mail, no gateway opens it first.
    const tapped = await hit(s, `/c/${token}`);
    expect(tapped.status).toBe(302);
    expect(tapped.headers.get('location')).toBe('myapp://orders/A-1001');
    // It went to Ann's own device: as a mail's click would, it identifies her to the site's widget.
    const cookie = tapped.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^clicktrail_id=/);
    // And the site's widget, given that cookie, greets her.
    await allowSite(s);
    const identity = cookie.slice('clicktrail_id='.length, cookie.indexOf(';'));
    expect(await boot(s, { identity })).toMatchObject({ firstName: 'Ann', identifiedBy: 'email-click' });
    const st = await stats(id);
    expect(st.clicks).toEqual({ total: 1, unique: 1, bot: 0, suspect: 0 });

    // The same payload again: the same link, still one sent.
    expect(await json<PushPayload>(payload(id, 'ann@shop.test'))).toEqual(ann);
    expect((await stats(id)).sent).toBe(1);
    const rows = await json<PersonStats[]>(s.api('GET', `/api/messages/${id}/people`));
    expect(rows.map((p) => [p.email, p.sentAt !== null, p.clicks.map((c) => c.count)])).toEqual([
      ['ann@shop.test', true, [1]],
      ['bob@shop.test', false, []],
    ]);
  });

  it('leave the uri as written when tracking is off or its domain is a universal link, and refuse what is not theirs', async () => {
    await s.api('PATCH', '/api/settings', { universalLinkDomains: ['shop.test'] });
    const universal = await pushMessage('https://www.shop.test/orders/{{attributes.order}}');
    expect(universal.links[0]).toMatchObject({ tracked: false, reason: 'universal-link' });
    expect((await json<PushPayload>(payload(universal.id, 'ann@shop.test'))).uri).toBe('https://www.shop.test/orders/A-1001');

    await s.api('PATCH', '/api/settings', { universalLinkDomains: [], clickTracking: false });
    const untracked = await pushMessage('myapp://orders/42');
    expect(untracked.links[0]).toMatchObject({ tracked: false, reason: 'tracking-off' });
    expect((await json<PushPayload>(payload(untracked.id, 'ann@shop.test'))).uri).toBe('myapp://orders/42');

    expect((await payload(untracked.id, 'stranger@shop.test')).status).toBe(404);
    expect((await s.api('GET', `/api/messages/${untracked.id}/push`)).status).toBe(400);
    const email = await json<MessageCreated>(s.api('POST', '/api/messages', { subject: 'Mail', html: '<p>hi</p>' }));
    await s.api('POST', `/api/messages/${email.id}/recipients`, { recipients: [ANN] });
    const notPush = await payload(email.id, 'ann@shop.test');
    expect(notPush.status).toBe(409);
    expect((await json<{ error: string }>(notPush)).error).toBe(`message ${email.id} is an email, not a push message`);
  });
});
