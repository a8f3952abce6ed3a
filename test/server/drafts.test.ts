import { describe, expect, it } from 'vitest';
import type { Message, MessageCreated } from '../../api/types.ts';
import { outboxMails } from '../support/mail.ts';
import { trackedUrls, useTestServer, type TestServer } from '../support/server.ts';
import { sqlValue } from '../support/sql.ts';
import { hit } from '../support/tracking.ts';

let s: TestServer;
useTestServer((server) => {
  s = server;
});

async function draft(body: Record<string, unknown> = {}): Promise<MessageCreated> {
  const res = await s.api('POST', '/api/messages', {
    subject: 'Autumn beans',
    html: '<p>Hi {{first_name}}, <a href="https://www.shop.test/autumn">autumn beans</a></p>',
    goal: { event: 'ordered', withinDays: 7 },
    ...body,
  });
  expect(res.status).toBe(201);
  return (await res.json()) as MessageCreated;
}

const get = async (id: number) => (await (await s.api('GET', `/api/messages/${id}`)).json()) as Message;
const patch = (id: number, body: unknown) => s.api('PATCH', `/api/messages/${id}`, body);

describe('drafts', () => {
  it('edits a draft: what is given replaces what was, null clears, and the link placements are computed again', async () => {
    const created = await draft({ text: 'Hi {{first_name}}: https://www.shop.test/autumn', replyTo: 'tom@shop.test' });
    await s.api('POST', `/api/messages/${created.id}/recipients`, { recipients: [{ email: 'michelle@shop.test', name: 'Michelle Obama' }] });
    const res = await patch(created.id, {
      subject: 'Winter beans for {{first_name}}',
      html: '<p><a href="https://www.shop.test/winter">winter</a> or <a href="mailto:tom@shop.test">ask Tom</a>, <a href="{{unsubscribe_url}}">leave</a></p>',
      text: null,
      from: 'Bean & Leaf <hello@shop.test>',
      replyTo: null,
      kind: 'transactional',
      goal: null,
    });
    expect(res.status).toBe(200);
    const edited = (await res.json()) as Message;
    expect(edited).toMatchObject({
      id: created.id,
      subject: 'Winter beans for {{first_name}}',
      text: null,
      from: 'Bean & Leaf <hello@shop.test>',
      replyTo: null,
      kind: 'transactional',
      goal: null,
      status: 'draft',
      sentAt: null,
      delivery: { recipients: 1, pending: 1, sent: 0, failed: 0, skipped: 0 },
    });
    // New placements, new ids; the unsubscribe link is the recipient's own, never tracked.
    expect(edited.links.map((l) => [l.url, l.tracked, l.reason ?? null])).toEqual([
      ['https://www.shop.test/winter', true, null],
      ['mailto:tom@shop.test', false, 'not-http'],
      ['{{unsubscribe_url}}', false, 'unsubscribe'],
    ]);
    expect(edited.links.map((l) => l.id)).not.toContain(created.links[0]!.id);
    expect(await get(created.id)).toEqual(edited);
    expect(await sqlValue(s, 'SELECT count(*) FROM links WHERE message_id = ? AND honeypot = 0', created.id)).toBe(3);

    // What goes out is the edited message, its tracked link the new placement.
    const preview = await (await s.api('GET', `/api/messages/${created.id}/preview?email=michelle@shop.test`)).text();
    const [link] = trackedUrls(preview);
    expect((await hit(s, new URL(link!).pathname)).headers.get('location')).toBe('https://www.shop.test/winter');
    // Transactional now: `{{unsubscribe_url}}` has nothing to fill, and no unsubscribe line is added.
    expect(preview).toContain('<a href="">leave</a>');
    expect(preview).not.toContain('/u/');

    // A field left out stays as it was.
    const again = (await (await patch(created.id, { kind: 'marketing' })).json()) as Message;
    expect(again).toMatchObject({ subject: 'Winter beans for {{first_name}}', from: 'Bean & Leaf <hello@shop.test>', kind: 'marketing' });
    expect(again.links.map((l) => l.url)).toEqual(edited.links.map((l) => l.url));
    const marketing = await (await s.api('GET', `/api/messages/${created.id}/preview?email=michelle@shop.test`)).text();
    // The author placed it: filled there, and no footer line of ours.
    expect(marketing).toMatch(/<a href="http:\/\/links\.shop\.test\/u\/[\w-]+">leave<\/a>/);
    expect(marketing).not.toContain('Don&#39;t want these emails');
  });

  it('deletes a draft with its recipients and links', async () => {
    const { id, links } = await draft();
    const other = await draft({ subject: 'Keep me' });
    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'michelle@shop.test' }] });
    const preview = await (await s.api('GET', `/api/messages/${id}/preview?email=michelle@shop.test`)).text();
    const [link] = trackedUrls(preview);
    // A look at the preview's link before: its hit goes with the draft.
    expect((await hit(s, new URL(link!).pathname)).status).toBe(302);
    await s.ctx.tracking.settle();

    const res = await s.api('DELETE', `/api/messages/${id}`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect((await s.api('GET', `/api/messages/${id}`)).status).toBe(404);
    expect((await s.api('DELETE', `/api/messages/${id}`)).status).toBe(404);
    expect(((await (await s.api('GET', '/api/messages')).json()) as { id: number }[]).map((m) => m.id)).toEqual([other.id]);
    for (const table of ['recipients', 'links', 'clicks', 'message_counts']) {
      expect(await sqlValue(s, `SELECT count(*) FROM ${table} WHERE message_id = ?`, id), table).toBe(0);
    }
    expect(await sqlValue(s, 'SELECT count(*) FROM link_counts WHERE link_id = ?', links[0]!.id)).toBe(0);
    // Its links lead nowhere now.
    expect((await hit(s, new URL(link!).pathname)).status).toBe(404);
    expect((await get(other.id)).links).toHaveLength(1);
  });

  it('refuses to edit or delete a sent message with 409, and answers a missing one with 404 and bad input with 400', async () => {
    const { id } = await draft();
    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'michelle@shop.test' }] });
    await s.api('POST', `/api/messages/${id}/send`);
    const sent = await get(id);
    expect(sent.status).toBe('sent');
    expect(Date.parse(sent.sentAt!)).toBeGreaterThanOrEqual(Date.parse(sent.createdAt));

    const edit = await patch(id, { subject: 'Too late' });
    expect(edit.status).toBe(409);
    expect(await edit.json()).toEqual({ error: 'message already sent: only a draft can be edited' });
    const remove = await s.api('DELETE', `/api/messages/${id}`);
    expect(remove.status).toBe(409);
    expect(await remove.json()).toEqual({ error: 'message already sent: only a draft can be deleted' });
    expect(await get(id)).toEqual(sent);

    expect((await patch(999, { subject: 'x' })).status).toBe(404);
    expect((await s.api('DELETE', '/api/messages/999')).status).toBe(404);
    const { id: fresh } = await draft();
    for (const [body, error] of [
      [{ subject: '' }, /^subject: /],
      [{ html: '' }, /^html: /],
      [{ from: 'nobody' }, /^from: must be an address/],
      [{ channel: 'push' }, /channel/],
      [{ goal: { event: 'x', withinDays: 0 } }, /^goal\.withinDays: /],
    ] as const) {
      const res = await patch(fresh, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(error);
    }
    const card = await draft({ channel: 'in_app', audience: { type: 'everyone' } });
    expect(((await (await patch(card.id, { replyTo: 'tom@shop.test' })).json()) as { error: string }).error).toMatch(/^replyTo: only an email message/);
    expect((await get(fresh)).subject).toBe('Autumn beans');
  });

  it('stays a draft after a send that was refused before mailing anyone, and after a send to nobody', async () => {
    const { id } = await draft({ subject: 'Hi {{first_name}}' });
    expect(await (await s.api('POST', `/api/messages/${id}/send`)).json()).toMatchObject({ sent: 0 });
    expect((await get(id)).status).toBe('draft');
    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'ben@shop.test' }] });
    expect((await s.api('POST', `/api/messages/${id}/send`, { allowMissing: false })).status).toBe(409);
    expect(await get(id)).toMatchObject({ status: 'draft', sentAt: null, delivery: { pending: 1 } });
    expect((await patch(id, { subject: 'Hello', html: '<p>Hello</p>' })).status).toBe(200);
    expect(await (await s.api('POST', `/api/messages/${id}/send`, { allowMissing: false })).json()).toMatchObject({ sent: 1 });
    expect((await get(id)).status).toBe('sent');
  });

  it('lets an edit and a send meet in either order, never half: the mails are wholly the old or wholly the new message', async () => {
    for (let round = 0; round < 6; round++) {
      const { id } = await draft({ subject: 'Old' });
      await s.api('POST', `/api/messages/${id}/recipients`, { recipients: ['a', 'b', 'c'].map((p) => ({ email: `${p}@shop.test` })) });
      // Each of them a little after the other in turn, by 0 to 2 ms: both orders, and the two at once.
      const later = (ms: number, f: () => Promise<Response>) => new Promise<Response>((r) => setTimeout(() => r(f()), ms));
      const editing = () => patch(id, { subject: 'New', html: '<a href="https://www.shop.test/new">new</a>' });
      const sending = () => s.api('POST', `/api/messages/${id}/send`);
      const [edit, send] = await Promise.all([later(round % 2 === 0 ? round / 2 : 0, editing), later(round % 2 === 1 ? (round - 1) / 2 : 0, sending)]);
      expect(send.status).toBe(200);
      expect([200, 409]).toContain(edit.status);
      const subject = edit.status === 200 ? 'New' : 'Old';
      const mails = await outboxMails(s, `${id}-`);
      expect(mails).toHaveLength(3);
      for (const { mail } of mails) {
        expect(mail.subject).toBe(subject);
        // Every tracked link in it is a placement the message has.
        const [link] = trackedUrls(mail.html as string);
        expect((await hit(s, new URL(link!).pathname)).headers.get('location')).toBe(subject === 'New' ? 'https://www.shop.test/new' : 'https://www.shop.test/autumn');
      }
    }
  });
});
