import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Audience, InAppCard, Message, MessageCreated, MessageStats, PersonStats, SendResult } from '../../api/types.ts';
import { userHash } from '../../server/messenger/identify.ts';
import { clickToken } from '../../server/tokens/tokens.ts';
import { useTestServer, type TestServer } from '../support/server.ts';
import { hit } from '../support/tracking.ts';
import { allowSite, boot, michelleClicked, widgetCall } from '../widget/support.ts';

let s: TestServer;
useTestServer(async (server) => {
  s = server;
  await allowSite(server);
  await server.api('PATCH', '/api/settings', { deepLinkSchemes: ['myapp'] });
});

const CARD = `<h3>Your order shipped</h3>
<p>Hi {{first_name | there}}, follow it <a href="https://www.shop.test/orders/42">on the web</a> or <a href="myapp://orders/42">in the app</a>.</p>`;

const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;
const create = (body: object) => s.api('POST', '/api/messages', { subject: 'Order 42 shipped', ...body });

async function published(audience: Audience | { type: 'people'; emails?: string[]; userIds?: string[] }, html = CARD): Promise<MessageCreated> {
  const res = await create({ channel: 'in_app', html, audience });
  expect(res.status).toBe(201);
  const created = await json<MessageCreated>(res);
  expect((await s.api('POST', `/api/messages/${created.id}/send`)).status).toBe(200);
  return created;
}

const stats = (id: number) => json<MessageStats>(s.api('GET', `/api/messages/${id}/stats`));
const people = (id: number) => json<PersonStats[]>(s.api('GET', `/api/messages/${id}/people`));
const verifiedUser = async (userId: string, email: string, name: string) => {
  const { identitySecret } = await json<{ identitySecret: string }>(s.api('GET', '/api/settings'));
  return { userId, email, name, userHash: userHash(identitySecret, userId) };
};
/** A tracked link of a card, as a path on the server. */
const hrefs = (card: InAppCard) => [...card.html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
const path = (url: string) => new URL(url).pathname;

describe('in-app messages', () => {
  it('refuse at creation a link whose scheme is neither the web nor one of the apps, and track the apps deep links', async () => {
    for (const [href, scheme] of [
      ['otherapp://orders/42', 'otherapp:'],
      ['mailto:help@shop.test', 'mailto:'],
      ['javascript:alert(1)', 'javascript:'],
    ]) {
      const res = await create({ channel: 'in_app', html: `<p><a href="https://www.shop.test/">shop</a> <a href="${href}">x</a></p>`, audience: { type: 'everyone' } });
      expect(res.status, href).toBe(400);
      expect((await json<{ error: string }>(res)).error).toBe(`html: link 1: ${href}: the scheme ${scheme} is not allowed here, only http, https or myapp`);
    }

    const created = await json<MessageCreated>(create({ channel: 'in_app', html: CARD, audience: { type: 'everyone' } }));
    expect(created.links.map((l) => [l.url, l.tracked])).toEqual([
      ['https://www.shop.test/orders/42', true],
      ['myapp://orders/42', true],
    ]);
    // Email is as it was: other schemes are left alone, deep links too.
    const email = await json<MessageCreated>(create({ html: '<a href="myapp://orders/42">app</a> <a href="mailto:help@shop.test">help</a>' }));
    expect(email.links.map((l) => [l.tracked, l.reason])).toEqual([
      [false, 'not-http'],
      [false, 'not-http'],
    ]);
  });

  it('are published by send, which mails nobody: they take no recipients, and stay drafts until then', async () => {
    const { id } = await json<MessageCreated>(create({ channel: 'in_app', html: CARD, audience: { type: 'everyone' } }));
    const draft = await json<Message>(s.api('GET', `/api/messages/${id}`));
    expect(draft).toMatchObject({ channel: 'in_app', status: 'draft', sentAt: null, audience: { type: 'everyone' }, push: null });
    expect((await boot(s)).inApp).toEqual([]);

    const refused = await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'ann@shop.test' }] });
    expect(refused.status).toBe(409);
    expect((await json<{ error: string }>(refused)).error).toMatch(/audience/);

    expect(await json<SendResult>(s.api('POST', `/api/messages/${id}/send`))).toEqual({ sent: 0, failed: 0, failures: [], skipped: 0, skips: [], warnings: [] });
    const sent = await json<Message>(s.api('GET', `/api/messages/${id}`));
    expect(sent.status).toBe('sent');
    expect(Date.parse(sent.sentAt!)).toBeGreaterThanOrEqual(Date.parse(draft.createdAt));
    // Shown to a visitor now, and still nothing in the outbox.
    expect((await boot(s)).inApp.map((c) => c.messageId)).toEqual([id]);
    const outbox = s.ctx.config.outbox;
    expect(existsSync(outbox) ? readdirSync(outbox) : []).toEqual([]);
  });

  it('are shown once to each person of the audience and never to anyone else', async () => {
    const { cookie } = await michelleClicked(s);
    const ada = await verifiedUser('u-42', 'ada@shop.test', 'Ada Lovelace');
    // A signed-in user claiming Michelle's email is not Michelle: a verified user's email is their own attribute.
    const claimer = await verifiedUser('u-7', 'michelle@shop.test', 'Mallory Mallet');

    const identified = await published({ type: 'identified' });
    const listed = await published({ type: 'people', emails: ['MICHELLE@shop.test'], userIds: ['u-42'] });
    const shown = async (body: Parameters<typeof boot>[1]) => (await boot(s, body)).inApp.map((c) => c.messageId);

    expect(await shown({})).toEqual([]);
    expect(await shown({ user: claimer })).toEqual([identified.id]);
    const michelle = await boot(s, { identity: cookie });
    expect(michelle.inApp.map((c) => c.messageId)).toEqual([identified.id, listed.id]);
    // Not again: in the same widget session, nor in another browser of hers.
    expect(await shown({ session: michelle.session, identity: cookie })).toEqual([]);
    expect(await shown({ identity: cookie })).toEqual([]);
    expect(await shown({ user: ada })).toEqual([identified.id, listed.id]);
    expect(await shown({ user: ada })).toEqual([]);

    expect((await stats(identified.id)).sent).toBe(3);
    expect((await stats(listed.id)).sent).toBe(2);
    const rows = await people(listed.id);
    expect(rows.map((p) => [p.email, p.name, p.dismissedAt])).toEqual([
      ['michelle@shop.test', 'Michelle Obama', null],
      ['ada@shop.test', 'Ada Lovelace', null],
    ]);
    expect(rows.every((p) => p.sentAt !== null)).toBe(true);
  });

  it('are shown to an audience of everyone once per widget session while the visitor is anonymous', async () => {
    const { id } = await published({ type: 'everyone' });
    const first = await boot(s);
    expect(first.inApp.map((c) => c.messageId)).toEqual([id]);
    expect((await boot(s, { session: first.session })).inApp).toEqual([]);
    expect((await boot(s)).inApp.map((c) => c.messageId)).toEqual([id]);
    // Two anonymous visitors: counted apart, named by nothing.
    expect((await stats(id)).sent).toBe(2);
    expect((await people(id)).map((p) => [p.email, p.name])).toEqual([
      [null, null],
      [null, null],
    ]);
  });

  it('hand the page sanitised HTML whose links are tracked for the one it is shown to, and only their first name', async () => {
    const { cookie, recipient: mailed } = await michelleClicked(s);
    const html = `<style>.launcher { display: none }</style><script>alert(1)</script>
<div class="panel" style="position: fixed; inset: 0" id="ct-panel" onclick="alert(2)">Hi {{first_name}} ({{email}}), see <a href="https://www.shop.test/beans" onmouseover="alert(3)" target="_top">the beans</a></div>
<img src="https://www.shop.test/beans.png" onerror="alert(4)" alt="Beans"><img src="data:image/png;base64,AAAA" alt="inline"><iframe src="https://evil.test/"></iframe>`;
    const { id, links } = await published({ type: 'identified' }, html);
    const [card] = (await boot(s, { identity: cookie })).inApp;

    expect(card!.html).toBe(
      `<div>Hi Michelle (), see <a href="${hrefs(card!)[0]}">the beans</a></div>\n<img src="https://www.shop.test/beans.png" alt="Beans" />`,
    );
    // The card's link is a click token of the row made when it was shown: Michelle's, apart from her email's.
    const token = clickToken.verify(s.ctx.keys, path(hrefs(card!)[0]!).slice(3))!;
    const [row] = await people(id);
    expect(token).toEqual({ recipientId: row!.recipientId, linkId: links[0]!.id });
    expect(row!.recipientId).not.toBe(mailed.id);
    expect(card!.dismissUrl).toBe(`http://links.shop.test/messenger/in-app/${id}/dismiss`);
  });

  it("count a click on the card's web link and on its deep link as that person's, and follow them", async () => {
    const { cookie } = await michelleClicked(s);
    const { id, links } = await published({ type: 'identified' });
    const [card] = (await boot(s, { identity: cookie })).inApp;
    const [web, deep] = hrefs(card!).map(path);

    // Straight after it was shown: a card is not a mail, no scanner opens it on delivery.
    const toWeb = await hit(s, web!);
    expect(toWeb.status).toBe(302);
    expect(toWeb.headers.get('location')).toBe('https://www.shop.test/orders/42');
    // The visitor is known already: a card's click never sets (or replaces) the identity cookie.
    expect(toWeb.headers.get('set-cookie')).toBeNull();
    const toApp = await hit(s, deep!);
    expect(toApp.status).toBe(302);
    expect(toApp.headers.get('location')).toBe('myapp://orders/42');
    // The request's own signals still count.
    expect((await hit(s, web!, { method: 'HEAD' })).status).toBe(302);

    const st = await stats(id);
    expect(st.clicks).toEqual({ total: 2, unique: 1, bot: 1, suspect: 0 });
    expect(st.links.map((l) => [l.id, l.clicks.total])).toEqual([
      [links[0]!.id, 1],
      [links[1]!.id, 1],
    ]);
    expect(st.reasons).toEqual({ bot: { head: 1 }, suspect: {} });
    const [michelle] = await people(id);
    expect(michelle).toMatchObject({ email: 'michelle@shop.test', clicks: [{ linkId: links[0]!.id, count: 1, bot: 1 }, { linkId: links[1]!.id, count: 1, bot: 0 }] });

    // A scheme taken off the list: its links lead nowhere any more, the web ones still do.
    await s.api('PATCH', '/api/settings', { deepLinkSchemes: [] });
    const gone = await hit(s, deep!);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('location')).toBeNull();
    expect(await gone.text()).toMatch(/This link is not valid/);
    expect((await hit(s, web!)).status).toBe(302);
  });

  it('record when the visitor closed the card, for that widget session only', async () => {
    const unshown = await boot(s); // booted before it was published: never shown it
    const { id } = await published({ type: 'everyone' });
    const visitor = await boot(s);
    const other = await boot(s);
    const dismiss = path(visitor.inApp[0]!.dismissUrl);

    expect((await widgetCall(s, 'POST', dismiss)).status).toBe(401);
    expect((await widgetCall(s, 'POST', dismiss, { session: unshown.session })).status).toBe(404);
    expect((await widgetCall(s, 'POST', `/messenger/in-app/${id + 1}/dismiss`, { session: visitor.session })).status).toBe(404);

    expect((await widgetCall(s, 'POST', dismiss, { session: visitor.session })).status).toBe(204);
    const [row, otherRow] = await people(id);
    expect(row!.dismissedAt).not.toBeNull();
    expect(otherRow!.dismissedAt).toBeNull();
    // Again, or the message published again: the first time is kept.
    await s.api('POST', `/api/messages/${id}/send`);
    expect((await widgetCall(s, 'POST', dismiss, { session: visitor.session })).status).toBe(204);
    expect((await people(id))[0]!.dismissedAt).toBe(row!.dismissedAt);
    expect((await widgetCall(s, 'POST', path(other.inApp[0]!.dismissUrl), { session: other.session })).status).toBe(204);
    expect((await people(id)).map((p) => p.dismissedAt !== null)).toEqual([true, true]);
  });
});
