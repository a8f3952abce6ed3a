import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Message, MessageCreated, MessageStats, SendResult, Settings, TestSent } from '../../api/types.ts';
import { sendMessage } from '../../server/delivery/send.ts';
import { compileMessage } from '../../server/rewrite/compile.ts';
import { clickToken, Keyring, testClickToken, unsubscribeToken } from '../../server/tokens/tokens.ts';
import { headerLine, outboxMails } from '../support/mail.ts';
import { startSmtp, type ReceivedMail } from '../support/smtp.ts';
import { removeDir, testServer, trackedUrls, useTestServer, type TestServer } from '../support/server.ts';
import { hit } from '../support/tracking.ts';

const HTML =
  '<html><body><p>Hi {{first_name}},</p><p>The <a href="https://www.shop.test/beans?src=mail&amp;id=7">new beans</a> are in, ' +
  'and so is <a href="https://www.shop.test/grinders">a grinder</a>.</p></body></html>';

async function create(s: TestServer, body: Record<string, unknown>): Promise<MessageCreated> {
  const res = await s.api('POST', '/api/messages', body);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as MessageCreated;
}

async function send(s: TestServer, id: number): Promise<SendResult> {
  const res = await s.api('POST', `/api/messages/${id}/send`);
  expect(res.status).toBe(200);
  return (await res.json()) as SendResult;
}

const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

describe('a sent email, as a real SMTP server receives it', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let s: TestServer;
  beforeAll(async () => {
    smtp = await startSmtp();
    s = testServer({ CLICKTRAIL_SMTP_URL: smtp.url, CLICKTRAIL_FROM: 'Clicktrail <clicktrail@links.shop.test>' });
  });
  afterAll(async () => {
    await s.close();
    await smtp.close();
    removeDir(s.dir);
  });
  const received = (to: string): ReceivedMail => smtp.received.find((m) => m.to[0] === to)!;

  it('carries one-click List-Unsubscribe headers, its own From and Reply-To, and a text part made from the HTML with the tracked links', async () => {
    const { id, links } = await create(s, { subject: 'Beans for {{first_name}}', html: HTML, from: 'Bean & Leaf <hello@shop.test>', replyTo: 'Tom at Bean & Leaf <tom@shop.test>' });
    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'michelle@shop.test', name: 'Michelle Obama' }] });
    expect(await send(s, id)).toMatchObject({ sent: 1, failed: 0, skipped: 0, skips: [] });

    const mail = received('michelle@shop.test');
    const recipient = (await s.ctx.store.findRecipient(id, 'michelle@shop.test'))!;
    expect(mail.parsed.from?.value).toEqual([{ address: 'hello@shop.test', name: 'Bean & Leaf' }]);
    expect(mail.parsed.replyTo?.value).toEqual([{ address: 'tom@shop.test', name: 'Tom at Bean & Leaf' }]);
    expect(mail.from).toBe('hello@shop.test');

    // RFC 8058: the https link first, the reply address as a mailto after it, and the one-click POST.
    const unsubscribe = /^<(http:\/\/links\.shop\.test\/u\/[\w-]+)>, <mailto:tom@shop\.test\?subject=unsubscribe>$/.exec(headerLine(mail.parsed, 'List-Unsubscribe')!);
    expect(unsubscribe, headerLine(mail.parsed, 'List-Unsubscribe')).not.toBeNull();
    expect(unsubscribeToken.verify(s.ctx.keys, tokenOf(unsubscribe![1]!))).toEqual({ recipientId: recipient.id });
    expect(headerLine(mail.parsed, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');

    // The HTML's own words, its links as the same tracked links as the HTML part's, and the unsubscribe line.
    const html = mail.parsed.html as string;
    expect(html).toContain(`<a href="${unsubscribe![1]}" style="color:#6b6b6b;text-decoration:underline">Unsubscribe</a>`);
    const text = mail.parsed.text!;
    expect(text).toMatch(/^Hi Michelle,\n\nThe new beans \[http:\/\/links\.shop\.test\/c\/[\w-]+\] are in, and so is a grinder \[http:\/\/links\.shop\.test\/c\/[\w-]+\]\.\n\nUnsubscribe: http:\/\/links\.shop\.test\/u\/[\w-]+$/);
    expect(text.endsWith(`Unsubscribe: ${unsubscribe![1]}`)).toBe(true);
    const inText = trackedUrls(text);
    expect(inText).toEqual(trackedUrls(html).slice(0, 2));
    expect(inText.map((u) => clickToken.verify(s.ctx.keys, tokenOf(u)))).toEqual(links.map((l) => ({ recipientId: recipient.id, linkId: l.id })));
    // No pixel, no honeypot in the text: only what a reader sees.
    expect(text).not.toMatch(/\/o\/|&#8203;/);
    expect(links.map((l) => [l.url, l.part])).toEqual([
      ['https://www.shop.test/beans?src=mail&id=7', 'html'],
      ['https://www.shop.test/grinders', 'html'],
    ]);
  });

  it('takes From and Reply-To from the settings when the message names none, and CLICKTRAIL_FROM when they do not either', async () => {
    const { id: first } = await create(s, { subject: 'Defaults', html: HTML });
    await s.api('POST', `/api/messages/${first}/recipients`, { recipients: [{ email: 'plain@shop.test' }] });
    await send(s, first);
    const plain = received('plain@shop.test').parsed;
    expect(plain.from?.value).toEqual([{ address: 'clicktrail@links.shop.test', name: 'Clicktrail' }]);
    expect(plain.replyTo).toBeUndefined();
    // No reply address: the one-click link alone.
    expect(headerLine(plain, 'List-Unsubscribe')).toMatch(/^<http:\/\/links\.shop\.test\/u\/[\w-]+>$/);

    const patched = await s.api('PATCH', '/api/settings', { defaultFrom: 'Shop <news@shop.test>', defaultReplyTo: 'help@shop.test' });
    expect(await patched.json()).toMatchObject({ defaultFrom: 'Shop <news@shop.test>', defaultReplyTo: 'help@shop.test' } satisfies Partial<Settings>);
    const { id } = await create(s, { subject: 'Defaults again', html: HTML });
    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'defaults@shop.test' }] });
    await send(s, id);
    const mail = received('defaults@shop.test').parsed;
    expect(mail.from?.value).toEqual([{ address: 'news@shop.test', name: 'Shop' }]);
    expect(mail.replyTo?.value).toEqual([{ address: 'help@shop.test', name: '' }]);
    expect(headerLine(mail, 'List-Unsubscribe')).toMatch(/^<http:\/\/links\.shop\.test\/u\/[\w-]+>, <mailto:help@shop\.test\?subject=unsubscribe>$/);
    const message = (await (await s.api('GET', `/api/messages/${id}`)).json()) as Message;
    // As given: the defaults are the settings', read at each send.
    expect(message).toMatchObject({ from: null, replyTo: null, kind: 'marketing', status: 'sent' });
    await s.api('PATCH', '/api/settings', { defaultFrom: null, defaultReplyTo: null });
  });

  it('sends a transactional email without List-Unsubscribe or the unsubscribe line, and keeps the author\'s own text part', async () => {
    const { id } = await create(s, {
      subject: 'Your receipt',
      html: '<p>Thanks for your order, {{first_name}}. <a href="https://www.shop.test/orders/1">See it</a>.</p>',
      text: 'Thanks for your order, {{first_name}}. See it: https://www.shop.test/orders/1',
      kind: 'transactional',
      replyTo: 'orders@shop.test',
    });
    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'buyer@shop.test', name: 'Ann Lee' }] });
    await send(s, id);
    const mail = received('buyer@shop.test').parsed;
    expect(headerLine(mail, 'List-Unsubscribe')).toBeUndefined();
    expect(headerLine(mail, 'List-Unsubscribe-Post')).toBeUndefined();
    expect(mail.replyTo?.value).toEqual([{ address: 'orders@shop.test', name: '' }]);
    expect(mail.html).not.toMatch(/Unsubscribe|\/u\//);
    expect(mail.text).toMatch(/^Thanks for your order, Ann\. See it: http:\/\/links\.shop\.test\/c\/[\w-]+$/);
  });

  it('makes a text part from each recipient\'s copy for a message stored before text parts were made at compose time', async () => {
    // As an earlier release compiled it: no text part at all.
    const compiled = compileMessage(HTML, null, { clickTracking: true, universalLinkDomains: [] });
    expect(compiled.text).toBeNull();
    const stored = await s.ctx.store.createMessage({ subject: 'Older', html: HTML, text: null, channel: 'email', goal: null, audience: null, push: null, compiled });
    await s.ctx.store.addRecipients(stored.id, [{ email: 'older@shop.test', name: 'Olive Older' }]);
    const { keys, mailer, store, config } = s.ctx;
    expect(await sendMessage(stored, { store, mailer, keys, publicUrl: config.publicUrl, from: config.from, node: config.nodeId })).toMatchObject({ sent: 1 });
    const mail = received('older@shop.test').parsed;
    expect(mail.text).toMatch(/^Hi Olive,\n\nThe new beans \[http:\/\/links\.shop\.test\/c\/[\w-]+\] are in, and so is a grinder \[http:\/\/links\.shop\.test\/c\/[\w-]+\]\.\n\nDon't want these emails\? Unsubscribe \[http:\/\/links\.shop\.test\/u\/[\w-]+\]$/);
    expect(trackedUrls(mail.text!)).toEqual(trackedUrls(mail.html as string).slice(0, 2));
  });

  it('moves a message\'s delivery while its send runs, recipient by recipient', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = await startSmtp({ hold: (to) => (to.includes('slow@shop.test') ? gate : Promise.resolve()) });
    const t = testServer({ CLICKTRAIL_SMTP_URL: slow.url });
    try {
      const { id } = await create(t, { subject: 'Progress', html: HTML });
      const people = ['a', 'b', 'c', 'slow'].map((p) => ({ email: `${p}@shop.test` }));
      await t.api('POST', `/api/messages/${id}/recipients`, { recipients: people });
      const delivery = async () => ((await (await t.api('GET', `/api/messages/${id}`)).json()) as Message).delivery;
      expect(await delivery()).toEqual({ recipients: 4, pending: 4, sent: 0, failed: 0, skipped: 0 });

      const sending = t.api('POST', `/api/messages/${id}/send`);
      // The mail to slow@ waits at the SMTP server: the others are recorded, one by one, meanwhile.
      let seen = await delivery();
      // A turn of the event loop between looks: a read on SQLite is synchronous, and the SMTP replies must get in.
      while (seen.sent < 3) seen = await new Promise((r) => setTimeout(r, 10)).then(delivery);
      expect(seen).toEqual({ recipients: 4, pending: 1, sent: 3, failed: 0, skipped: 0 });
      expect(((await (await t.api('GET', `/api/messages/${id}`)).json()) as Message).status).toBe('sent');
      release();
      expect(await (await sending).json()).toMatchObject({ sent: 4, failed: 0 });
      expect(await delivery()).toEqual({ recipients: 4, pending: 0, sent: 4, failed: 0, skipped: 0 });
    } finally {
      release();
      await t.close();
      await slow.close();
      removeDir(t.dir);
    }
  });
});

describe('From, Reply-To and kind, checked', () => {
  let s: TestServer;
  useTestServer((server) => {
    s = server;
  });

  it('answers a bad address, or one given to a message that is not an email, with a 400 that says why, and keeps nothing', async () => {
    const cases: [string, string, unknown, RegExp][] = [
      ['POST', '/api/messages', { subject: 's', html: '<p>x</p>', from: 'not an address' }, /^from: must be an address/],
      ['POST', '/api/messages', { subject: 's', html: '<p>x</p>', replyTo: 'Tom <tom@>' }, /^replyTo: must be an address/],
      ['POST', '/api/messages', { subject: 's', html: '<p>x</p>', from: 'a@shop.test\r\nBcc: all@shop.test' }, /^from: /],
      ['POST', '/api/messages', { subject: 's', html: '<p>x</p>', kind: 'newsletter' }, /^kind: /],
      ['POST', '/api/messages', { subject: 's', html: '<p>x</p>', channel: 'in_app', audience: { type: 'everyone' }, from: 'a@shop.test' }, /^from: only an email message has one/],
      ['POST', '/api/messages', { subject: 's', channel: 'push', push: { title: 't', body: 'b', uri: 'https://www.shop.test/' }, kind: 'transactional' }, /^kind: only an email message has one/],
      ['PATCH', '/api/settings', { defaultFrom: 'nobody' }, /^defaultFrom: must be an address/],
      ['PATCH', '/api/settings', { defaultReplyTo: 'x@y' }, /^defaultReplyTo: must be an address/],
    ];
    for (const [method, path, body, error] of cases) {
      const res = await s.api(method, path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: string }).error, JSON.stringify(body)).toMatch(error);
    }
    expect(await (await s.api('GET', '/api/messages')).json()).toEqual([]);
    expect(await (await s.api('GET', '/api/settings')).json()).toMatchObject({ defaultFrom: null, defaultReplyTo: null });
  });

  it('keeps what was given, and lists each message with its kind and status', async () => {
    const { id } = await create(s, { subject: 's', html: '<p>x</p>', from: ' Shop <news@shop.test> ', kind: 'transactional' });
    const message = (await (await s.api('GET', `/api/messages/${id}`)).json()) as Message;
    expect(message).toMatchObject({ from: 'Shop <news@shop.test>', replyTo: null, kind: 'transactional', status: 'draft', sentAt: null });
    const inApp = await create(s, { subject: 'card', html: '<p>x</p>', channel: 'in_app', audience: { type: 'everyone' } });
    expect(await (await s.api('GET', '/api/messages')).json()).toMatchObject([
      { id: inApp.id, channel: 'in_app', kind: 'marketing', status: 'draft' },
      { id, channel: 'email', kind: 'transactional', status: 'draft' },
    ]);
  });
});

describe('a test send', () => {
  let s: TestServer;
  useTestServer((server) => {
    s = server;
  });
  let id: number;
  beforeEach(async () => {
    ({ id } = await create(s, { subject: 'Beans for {{first_name | you}}', html: '<p>Hi {{first_name | there}}, <a href="https://www.shop.test/beans?for={{email}}">beans</a></p>' }));
  });
  const test = (body: unknown) => s.api('POST', `/api/messages/${id}/test`, body);

  it('goes to the given address as the first recipient gets it, marked [Test]; its link redirects through the real lane and nothing is counted', async () => {
    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'michelle@shop.test', name: 'Michelle Obama' }, { email: 'barack@shop.test', name: 'Barack Obama' }] });
    const res = await test({ email: 'marketer@shop.test' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ to: 'marketer@shop.test', as: 'michelle@shop.test', subject: '[Test] Beans for Michelle' } satisfies TestSent);

    const [only, ...none] = await outboxMails(s, `test-${id}-`);
    expect(none).toEqual([]);
    expect(await outboxMails(s, `${id}-`)).toEqual([]);
    const mail = only!.mail;
    expect(mail.subject).toBe('[Test] Beans for Michelle');
    expect(mail.to).toMatchObject({ value: [{ address: 'marketer@shop.test' }] });
    expect(mail.messageId).toMatch(new RegExp(`^<clicktrail\\.test\\.${id}\\.[\\w-]+@links\\.shop\\.test>$`));
    // Michelle's values, no pixel, no honeypot: nothing in it reaches the stats.
    expect(mail.html).toContain('<p>Hi Michelle, <a href="http://links.shop.test/c/');
    expect(mail.html).not.toMatch(/\/o\/|aria-hidden/);
    const [link, ...others] = trackedUrls(mail.html as string);
    expect(others).toEqual([]);
    const michelle = (await s.ctx.store.findRecipient(id, 'michelle@shop.test'))!;
    expect(testClickToken.verify(s.ctx.keys, tokenOf(link!))).toEqual({ recipientId: michelle.id, linkId: expect.any(Number) });
    expect(trackedUrls(mail.text!)).toEqual([link]);

    const click = await hit(s, new URL(link!).pathname);
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe('https://www.shop.test/beans?for=michelle%40shop.test');
    expect(click.headers.get('set-cookie')).toBeNull();
    expect((await hit(s, new URL(link!).pathname, { method: 'HEAD' })).status).toBe(302);
    const stats = (await (await s.api('GET', `/api/messages/${id}/stats`)).json()) as MessageStats;
    expect(stats).toMatchObject({ sent: 0, opens: { total: 0, unique: 0, bot: 0 }, clicks: { total: 0, unique: 0, bot: 0, suspect: 0 }, timeline: [] });
    expect(stats.links[0]!.clicks).toEqual({ total: 0, unique: 0, bot: 0, suspect: 0 });
    const message = (await (await s.api('GET', `/api/messages/${id}`)).json()) as Message;
    expect(message).toMatchObject({ status: 'draft', sentAt: null, delivery: { recipients: 2, pending: 2, sent: 0 } });

    // Its unsubscribe link unsubscribes nobody: a page that says so, whether looked at or posted to.
    const unsubscribe = /^<(http:\/\/links\.shop\.test\/u\/[\w-]+)>$/.exec(headerLine(mail, 'List-Unsubscribe')!)![1]!;
    expect(unsubscribeToken.verify(s.ctx.keys, tokenOf(unsubscribe))).toEqual({ recipientId: 0 });
    const post = await s.fetch(new URL(unsubscribe).pathname, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(post.status).toBe(200);
    expect(await post.text()).toMatch(/test mail: nobody was unsubscribed/);
    expect(await (await s.api('GET', '/api/suppressions')).json()).toEqual([]);
    expect(await (await s.api('GET', `/api/messages/${id}/people`)).json()).toMatchObject([{ unsubscribedAt: null }, { unsubscribedAt: null }]);
  });

  it('renders as the recipient asked for, as nobody without recipients, and works on a sent message without changing it', async () => {
    expect(await (await test({ email: 'marketer@shop.test' })).json()).toEqual({ to: 'marketer@shop.test', as: null, subject: '[Test] Beans for you' });
    const nobody = (await outboxMails(s, `test-${id}-`))[0]!.mail;
    expect(nobody.html).toContain('<p>Hi there, <a href="http://links.shop.test/c/');
    const [link] = trackedUrls(nobody.html as string);
    expect(testClickToken.verify(s.ctx.keys, tokenOf(link!))).toMatchObject({ recipientId: 0 });
    expect((await hit(s, new URL(link!).pathname)).headers.get('location')).toBe('https://www.shop.test/beans?for=');

    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'michelle@shop.test', name: 'Michelle Obama' }, { email: 'barack@shop.test', name: 'Barack Obama' }] });
    await send(s, id);
    const before = (await (await s.api('GET', `/api/messages/${id}`)).json()) as Message;
    expect(await (await test({ email: 'marketer@shop.test', as: 'BARACK@shop.test' })).json()).toMatchObject({ as: 'barack@shop.test', subject: '[Test] Beans for Barack' });
    expect(await (await s.api('GET', `/api/messages/${id}`)).json()).toEqual(before);
    expect(await outboxMails(s, `test-${id}-`)).toHaveLength(2);
    expect(await outboxMails(s, `${id}-`)).toHaveLength(2);
  });

  it('answers a stranger as `as` with 404, a bad address with 400, a message that is not an email with 400', async () => {
    const stranger = await test({ email: 'marketer@shop.test', as: 'stranger@shop.test' });
    expect(stranger.status).toBe(404);
    expect(await stranger.json()).toEqual({ error: 'recipient not found' });
    expect((await test({ email: 'not an address' })).status).toBe(400);
    expect((await test({})).status).toBe(400);
    expect((await s.api('POST', '/api/messages/999/test', { email: 'marketer@shop.test' })).status).toBe(404);
    const card = await create(s, { subject: 'card', html: '<p>x</p>', channel: 'in_app', audience: { type: 'everyone' } });
    const res = await s.api('POST', `/api/messages/${card.id}/test`, { email: 'marketer@shop.test' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/only an email message/);
    expect(await outboxMails(s, 'test-')).toEqual([]);
    // A forged test link is the plain 404 page, never a Location.
    const forged = await hit(s, `/c/${testClickToken.sign(new Keyring(['another secret']), 0, 1)}`);
    expect(forged.status).toBe(404);
    expect(forged.headers.get('location')).toBeNull();
  });
});
