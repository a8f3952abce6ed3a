import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Message, MessageCreated, SendRefused, SendResult } from '../../api/types.ts';
import { useTestServer, type TestServer } from '../support/server.ts';
import { sqlRow } from '../support/sql.ts';
import { hit } from '../support/tracking.ts';

let s: TestServer;
useTestServer((server) => {
  s = server;
});

const HTML =
  '<p>Welcome, {{first_name}}! Your plan: {{attributes.plan}}. {{ .Subscriber.Name }}</p>\n' +
  '<a href="{{action_url}}">Start</a> <a href="https://shop.test/u/{{ subscriber.uuid }}">You</a> <a href="{{unsubscribe}}">Leave</a>';

async function create(body: Record<string, unknown>): Promise<MessageCreated> {
  const res = await s.api('POST', '/api/messages', body);
  expect(res.status).toBe(201);
  return (await res.json()) as MessageCreated;
}

/** The mails written for a message (the outbox folder appears with the first one). */
const outbox = (id: number) => (existsSync(s.ctx.config.outbox) ? readdirSync(s.ctx.config.outbox).filter((f) => f.startsWith(`${id}-`)) : []);

describe('tags at compose time', () => {
  it('answers 201 with the links and what the author should know, and keeps it with the message', async () => {
    const created = await create({ subject: 'Hi {{first_name}} {{{emoji}}}', html: HTML });
    expect(created.links.map((l) => [l.url, l.reason ?? 'tracked'])).toEqual([
      ['{{action_url}}', 'tracked'],
      ['https://shop.test/u/{{ subscriber.uuid }}', 'foreign-tag'],
      ['{{unsubscribe}}', 'tracked'],
    ]);
    expect(created.warnings).toEqual([
      { tag: '{{{emoji}}}', where: 'subject', reason: 'foreign' },
      { tag: '{{ .Subscriber.Name }}', where: 'html line 1', reason: 'foreign' },
      { tag: '{{action_url}}', where: 'link 0 (html line 2)', reason: 'attribute' },
      { tag: '{{ subscriber.uuid }}', where: 'link 1 (html line 2)', reason: 'foreign' },
      { tag: '{{unsubscribe}}', where: 'link 2 (html line 2)', reason: 'attribute' },
    ]);
    const stored = (await (await s.api('GET', `/api/messages/${created.id}`)).json()) as Message;
    expect(stored.warnings).toEqual(created.warnings);
    expect((await create({ subject: 'Plain', html: '<a href="https://shop.test/">x</a>' })).warnings).toEqual([]);
  });
});

describe('tags at send time', () => {
  it('sends by default and says who lacked which value, subject included', async () => {
    const { id } = await create({ subject: 'Welcome, {{first_name}}', html: HTML });
    await s.api('POST', `/api/messages/${id}/recipients`, {
      recipients: [
        { email: 'ann@shop.test', name: 'Ann Lee', attributes: { plan: 'pro', action_url: 'https://app.shop.test/start' } },
        { email: 'ben@shop.test', attributes: { action_url: 'https://app.shop.test/start' } },
        { email: 'cy@shop.test', name: 'Cy Twombly', attributes: { plan: 'free' } },
      ],
    });
    const result = (await (await s.api('POST', `/api/messages/${id}/send`)).json()) as SendResult;
    expect(result).toMatchObject({ sent: 3, failed: 0, failures: [] });
    expect(result.warnings).toEqual([
      { tag: '{{first_name}}', where: 'subject, html line 1', reason: 'missing', recipients: ['ben@shop.test'], count: 1 },
      { tag: '{{attributes.plan}}', where: 'html line 1', reason: 'missing', recipients: ['ben@shop.test'], count: 1 },
      { tag: '{{action_url}}', where: 'link 0 (html line 2)', reason: 'missing', recipients: ['cy@shop.test'], count: 1 },
      // No recipient has it: another sender's, written as it was for all of them.
      { tag: '{{unsubscribe}}', where: 'link 2 (html line 2)', reason: 'not-an-attribute', recipients: ['ann@shop.test', 'ben@shop.test', 'cy@shop.test'], count: 3 },
    ]);
    const preview = async (email: string) => (await s.api('GET', `/api/messages/${id}/preview?email=${email}`)).text();
    // Ben's greeting is empty, as the result says; Cy's button is written as it was, untracked.
    expect(await preview('ben@shop.test')).toContain('<p>Welcome, ! Your plan: . {{ .Subscriber.Name }}</p>');
    expect(await preview('cy@shop.test')).toContain('<a href="{{action_url}}">Start</a>');
    const ann = await preview('ann@shop.test');
    expect(ann).toContain('<a href="{{unsubscribe}}">Leave</a>');
    expect(ann).toContain('<a href="https://shop.test/u/{{ subscriber.uuid }}">You</a>');
    const start = /<a href="http:\/\/links\.shop\.test(\/c\/[^"]+)">Start<\/a>/.exec(ann)![1]!;
    expect((await hit(s, start)).headers.get('location')).toBe('https://app.shop.test/start');
  });

  it('with allowMissing false, refuses with 409 and the warnings before mailing anyone; filled in, the next send goes', async () => {
    const { id } = await create({ subject: 'Welcome, {{first_name}}', html: '<p>Hi {{first_name}}, {{ plan | friend }}</p><a href="https://shop.test/">x</a>' });
    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'ann@shop.test', name: 'Ann Lee' }, { email: 'ben@shop.test' }] });

    for (const [path, body] of [
      [`/api/messages/${id}/send`, { allowMissing: false }],
      [`/api/messages/${id}/send?allowMissing=false`, undefined],
    ] as const) {
      const refused = await s.api('POST', path, body);
      expect(refused.status).toBe(409);
      const json = (await refused.json()) as SendRefused;
      expect(json.error).toMatch(/\{\{first_name\}\}/);
      expect(json.warnings).toEqual([{ tag: '{{first_name}}', where: 'subject, html line 1', reason: 'missing', recipients: ['ben@shop.test'], count: 1 }]);
      expect(outbox(id)).toEqual([]);
    }
    expect(await (await s.api('GET', '/api/messages')).json()).toMatchObject([{ id, recipients: 2, sent: 0 }]);
    // Looked at, not tried: nobody was marked failed, nor counted as an attempt.
    for (const email of ['ann@shop.test', 'ben@shop.test']) {
      expect(await s.ctx.store.findRecipient(id, email)).toMatchObject({ status: 'pending', error: null });
    }
    expect(await sqlRow(s, 'SELECT sum(attempts) AS n FROM recipients WHERE message_id = ?', id)).toEqual({ n: 0 });

    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'ben@shop.test', name: 'Ben Day' }] });
    const result = (await (await s.api('POST', `/api/messages/${id}/send`, { allowMissing: false })).json()) as SendResult;
    expect(result).toEqual({ sent: 2, failed: 0, failures: [], skipped: 0, skips: [], warnings: [] });
    expect(outbox(id)).toHaveLength(2);
  });

  it('does not refuse for a bare tag no recipient has (another sender\'s), and says so', async () => {
    const { id } = await create({ subject: 'News', html: '<a href="{{ UnsubscribeURL }}">Leave</a><a href="https://shop.test/">Shop</a>' });
    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'ann@shop.test' }] });
    const res = await s.api('POST', `/api/messages/${id}/send?allowMissing=false`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as SendResult).warnings).toEqual([
      { tag: '{{ UnsubscribeURL }}', where: 'link 0 (html line 1)', reason: 'not-an-attribute', recipients: ['ann@shop.test'], count: 1 },
    ]);
  });

  it('lists at most 100 recipients per tag, and counts them all', async () => {
    const { id } = await create({ subject: 'Hi {{first_name}}', html: '<p>x</p>' });
    const people = Array.from({ length: 130 }, (_, i) => ({ email: `p${String(i).padStart(3, '0')}@shop.test` }));
    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: people });
    const res = await s.api('POST', `/api/messages/${id}/send`, { allowMissing: false });
    const { warnings } = (await res.json()) as SendRefused;
    expect(warnings[0]).toMatchObject({ tag: '{{first_name}}', count: 130 });
    expect(warnings[0]!.recipients).toHaveLength(100);
  });

  it('answers a bad allowMissing with a 400', async () => {
    const { id } = await create({ subject: 's', html: '<p>x</p>' });
    expect((await s.api('POST', `/api/messages/${id}/send?allowMissing=no`)).status).toBe(400);
    expect((await s.api('POST', `/api/messages/${id}/send`, { allowMissing: 'no' })).status).toBe(400);
    expect((await s.api('POST', `/api/messages/${id}/send`, { other: true })).status).toBe(400);
  });
});
