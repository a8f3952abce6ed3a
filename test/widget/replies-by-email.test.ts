import { join } from 'node:path';
import type { ParsedMail } from 'mailparser';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Conversation, WidgetConversation } from '../../api/types.ts';
import { userHash } from '../../server/messenger/identify.ts';
import { replyEmailToken } from '../../server/tokens/tokens.ts';
import { outboxMails } from '../support/mail.ts';
import { startSmtp } from '../support/smtp.ts';
import { removeDir, tempDir, testServer, trackedUrls, type TestServer } from '../support/server.ts';
import { sql, sqlValue } from '../support/sql.ts';
import { allowSite, boot, michelleClicked, SITE, widgetCall } from './support.ts';

const MINUTE = 60_000;
const servers: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const s of servers.splice(0)) await s.close();
  dirs.splice(0).forEach(removeDir);
});

async function server(env: Record<string, string> = {}, dir?: string): Promise<TestServer> {
  const s = testServer(env, dir);
  servers.push(s);
  if (!dir) dirs.push(s.dir);
  await allowSite(s);
  return s;
}

/** Every line the server logs, so a test can say what never reaches them. */
function logged(): () => string {
  const lines: unknown[][] = [];
  for (const level of ['log', 'info', 'warn', 'error'] as const) vi.spyOn(console, level).mockImplementation((...args) => void lines.push(args));
  return () => lines.map((args) => args.map(String).join(' ')).join('\n');
}

let clientIds = 0;
const clientId = () => `client-${Date.now()}-${++clientIds}`;

async function start(s: TestServer, session: { id: number; secret: string }, body: string, pageUrl = `${SITE}/beans`) {
  const res = await widgetCall(s, 'POST', '/messenger/conversations', { session, body: { body, clientId: clientId(), pageUrl } });
  expect(res.status).toBe(201);
  return (await res.json()) as WidgetConversation;
}

async function reply(s: TestServer, conversationId: number, body: string): Promise<number> {
  const res = await s.api('POST', `/api/conversations/${conversationId}/replies`, { body });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: number }).id;
}

const teamView = async (s: TestServer, id: number) => (await (await s.api('GET', `/api/conversations/${id}`)).json()) as Conversation;
const seen = (s: TestServer, session: { id: number; secret: string }, conversationId: number, body: unknown) =>
  widgetCall(s, 'POST', `/messenger/conversations/${conversationId}/seen`, { session, body });
/** A look of the server's reply-email sender, `minutes` from now by its clock. */
const lookIn = (s: TestServer, minutes: number) => s.ctx.messenger.replyEmails.run(Date.now() + minutes * MINUTE);
const mailsOf = (s: TestServer, conversationId: number) => outboxMails(s, `reply-${conversationId}-`);
/** The one mail of a conversation's replies. */
async function onlyMail(s: TestServer, conversationId: number): Promise<ParsedMail> {
  const mails = await mailsOf(s, conversationId);
  expect(mails).toHaveLength(1);
  return mails[0]!.mail;
}

/** An anonymous visitor who left an address for replies, and their conversation. */
async function visitorWithAddress(s: TestServer, email: string, question = 'Do you ship to Lyon?') {
  const visitor = await boot(s);
  expect((await widgetCall(s, 'POST', '/messenger/contact-email', { session: visitor.session, body: { email } })).status).toBe(204);
  const conversation = await start(s, visitor.session, question);
  return { session: visitor.session, conversation };
}

describe('replies by email', () => {
  it('mails the replies a visitor has not seen once the minutes of the setting have passed, all in one mail, and never again', async () => {
    const s = await server();
    const log = logged();
    await s.api('PATCH', '/api/settings', { defaultFrom: 'Bean Shop <hello@shop.test>' });
    const visitor = await boot(s);
    expect(visitor.askEmailForReplies).toBe(true);
    expect((await widgetCall(s, 'POST', '/messenger/contact-email', { session: visitor.session, body: { email: 'nadia@example.test' } })).status).toBe(204);
    const again = await widgetCall(s, 'POST', '/messenger/boot', { body: { session: visitor.session, url: `${SITE}/` } });
    const text = await again.text();
    expect(JSON.parse(text).askEmailForReplies).toBe(false);
    expect(text).not.toContain('nadia');

    const conversation = await start(s, visitor.session, 'Do you ship to Lyon?');
    await reply(s, conversation.id, 'We do: two days to Lyon.');
    const second = await reply(s, conversation.id, 'And the <b>Copper</b> kettle & "friends" ship too.');

    expect(await lookIn(s, 4)).toBe(0);
    expect(await mailsOf(s, conversation.id)).toEqual([]);
    expect(await lookIn(s, 6)).toBe(1);
    const [mail, ...more] = await mailsOf(s, conversation.id);
    expect(more).toEqual([]);
    const { mail: m } = mail!;
    expect(m.to).toMatchObject({ value: [{ address: 'nadia@example.test' }] });
    expect(m.from).toMatchObject({ value: [{ address: 'hello@shop.test', name: 'Bean Shop' }] });
    expect(m.subject).toBe('New replies from shop.test');
    expect(m.headers.get('auto-submitted')).toBe('auto-generated');
    expect(m.messageId).toMatch(/^<clicktrail\.reply\.\d+\.[0-9a-z]+@links\.shop\.test>$/);
    expect(m.text).toContain('We do: two days to Lyon.');
    expect(m.text).toContain('And the <b>Copper</b> kettle & "friends" ship too.');
    expect(m.html).toContain('And the &lt;b&gt;Copper&lt;/b&gt; kettle &amp; &quot;friends&quot; ship too.');
    expect(m.html).not.toContain('<b>Copper</b>');
    // Only the team's words: never the visitor's own.
    expect(`${m.text}${m.html}`).not.toContain('Do you ship to Lyon?');
    const links = trackedUrls(m.text!);
    expect(links).toHaveLength(1);
    expect(m.html).toContain(`href="${links[0]}"`);
    expect(links[0]).not.toMatch(/nadia|example/);

    // Never again for what was mailed, however long it stays unseen.
    expect(await lookIn(s, 20)).toBe(0);
    expect(await mailsOf(s, conversation.id)).toHaveLength(1);

    // The team sees the address (not a person: nobody is named or merged by it) and the mail.
    const view = await teamView(s, conversation.id);
    expect(view).toMatchObject({ person: null, identifiedBy: null, contactEmail: 'nadia@example.test', seenThrough: 0 });
    expect(view.replyEmails).toEqual([{ id: expect.any(Number), through: second, status: 'sent', sentAt: expect.any(String), clickedAt: null }]);
    expect(await sqlValue(s, 'SELECT count(*) AS n FROM people WHERE email = ? OR user_email = ?', 'nadia@example.test', 'nadia@example.test')).toBe(0);

    // A reply after the mail is the next mail's, alone.
    const third = await reply(s, conversation.id, 'Anything else?');
    expect(await lookIn(s, 6)).toBe(1);
    const mails = await mailsOf(s, conversation.id);
    expect(mails).toHaveLength(2);
    const latest = mails.find((x) => x.file !== mail!.file)!.mail;
    expect(latest.subject).toBe('New reply from shop.test');
    expect(latest.text).toContain('Anything else?');
    expect(latest.text).not.toContain('two days to Lyon');
    expect((await teamView(s, conversation.id)).replyEmails.map((r) => r.through)).toEqual([second, third]);
    expect(log()).not.toContain('nadia');
  });

  it('never mails a reply the visitor saw, and mails only the ones after it', async () => {
    const s = await server();
    const { identitySecret } = (await (await s.api('GET', '/api/settings')).json()) as { identitySecret: string };
    const user = { userId: 'u-7', email: 'ada@shop.test', name: 'Ada Lovelace', userHash: userHash(identitySecret, 'u-7') };
    const ada = await boot(s, { user });
    expect(ada.askEmailForReplies).toBe(false); // her address is known
    const conversation = await start(s, ada.session, 'Do you grind the beans?');
    const first = await reply(s, conversation.id, 'We do, for any brewer.');
    expect((await seen(s, ada.session, conversation.id, { through: first })).status).toBe(204);
    expect(await lookIn(s, 6)).toBe(0);

    const second = await reply(s, conversation.id, 'Fine or coarse?');
    await reply(s, conversation.id, 'Or whole beans, if you prefer.');
    expect((await seen(s, ada.session, conversation.id, { through: second })).status).toBe(204);
    expect(await lookIn(s, 6)).toBe(1);
    const mail = await onlyMail(s, conversation.id);
    expect(mail.to).toMatchObject({ value: [{ address: 'ada@shop.test' }] });
    expect(mail.subject).toBe('New reply from shop.test');
    expect(mail.text).toContain('Or whole beans, if you prefer.');
    expect(mail.text).not.toMatch(/for any brewer|Fine or coarse/);
    expect((await teamView(s, conversation.id)).seenThrough).toBe(second);
  });

  it('never mails while the setting is null, and offers no field for an address then', async () => {
    const s = await server();
    for (const bad of [-1, 'soon', 10_081, true]) {
      const res = await s.api('PATCH', '/api/settings', { replyByEmailAfterMinutes: bad });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/^replyByEmailAfterMinutes: /);
    }
    expect(((await (await s.api('GET', '/api/settings')).json()) as { replyByEmailAfterMinutes: unknown }).replyByEmailAfterMinutes).toBe(5);
    const { conversation } = await visitorWithAddress(s, 'nadia@example.test');
    const { cookie } = await michelleClicked(s);
    const michelle = await boot(s, { identity: cookie });
    const hers = await start(s, michelle.session, 'About the beans email');

    const res = await s.api('PATCH', '/api/settings', { replyByEmailAfterMinutes: null });
    expect(((await res.json()) as { replyByEmailAfterMinutes: unknown }).replyByEmailAfterMinutes).toBeNull();
    expect((await boot(s)).askEmailForReplies).toBe(false);
    await reply(s, conversation.id, 'Yes we do.');
    await reply(s, hers.id, 'Glad you liked it.');
    for (const minutes of [6, 60, 60 * 24 * 30]) expect(await lookIn(s, minutes)).toBe(0);
    expect(await outboxMails(s, 'reply-')).toEqual([]);
    expect((await teamView(s, hers.id)).replyEmails).toEqual([]);
  });

  it('mails an identified lead at her address; its link brings her to the conversation’s page with the widget told to open it, and sets no cookie', async () => {
    const s = await server();
    const log = logged();
    const { cookie } = await michelleClicked(s);
    const michelle = await boot(s, { identity: cookie });
    expect(michelle.askEmailForReplies).toBe(false);
    const conversation = await start(s, michelle.session, 'Is the Guji still in stock?', `${SITE}/beans?sort=new`);
    await reply(s, conversation.id, 'It is, for two more weeks.');
    expect(await lookIn(s, 6)).toBe(1);
    const mail = await onlyMail(s, conversation.id);
    expect(mail.to).toMatchObject({ value: [{ address: 'michelle@shop.test' }] });
    const [link] = trackedUrls(mail.text!);
    const path = new URL(link!).pathname;
    const browser = { 'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Safari/605.1.15', 'accept-language': 'en' };

    // A scanner's fetch right after delivery (the scanner window) goes through, and counts for nothing.
    const scanned = await s.fetch(path, { headers: browser });
    expect(scanned.status).toBe(302);
    expect((await s.fetch(path, { method: 'HEAD', headers: browser })).status).toBe(302);
    expect((await teamView(s, conversation.id)).replyEmails[0]!.clickedAt).toBeNull();

    await s.api('PATCH', '/api/settings', { scannerWindowSeconds: 0 });
    const followed = await s.fetch(path, { headers: browser });
    expect(followed.status).toBe(302);
    expect(followed.headers.get('location')).toBe(`${SITE}/beans?sort=new&clicktrail_conversation=${conversation.id}`);
    expect(followed.headers.get('set-cookie')).toBeNull();
    expect((await teamView(s, conversation.id)).replyEmails[0]!.clickedAt).toEqual(expect.any(String));
    // An app asking for the destination gets it as JSON.
    const asJson = await s.fetch(path, { headers: { ...browser, accept: 'application/json' } });
    expect(await asJson.json()).toEqual({ url: `${SITE}/beans?sort=new&clicktrail_conversation=${conversation.id}` });

    // Forged, or naming no reply email: the plain 404 page, never a Location.
    const token = path.slice(3);
    for (const wrong of [token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA'), replyEmailToken.sign(s.ctx.keys, 9_999)]) {
      const res = await s.fetch(`/c/${wrong}`, { headers: browser });
      expect(res.status).toBe(404);
      expect(res.headers.get('location')).toBeNull();
    }
    // A page the widget may no longer run on is no destination.
    await s.api('PATCH', '/api/settings', { allowedOrigins: [] });
    expect((await s.fetch(path, { headers: browser })).status).toBe(404);
    expect(log()).not.toContain('michelle@');
  });

  it('names no other site and links nowhere when the page the widget reported is not one it may run on', async () => {
    const s = await server();
    const { session } = await visitorWithAddress(s, 'nadia@example.test');
    const conversation = await start(s, session, 'Hello', 'https://evil.example/login');
    await reply(s, conversation.id, 'Hello to you.');
    expect(await lookIn(s, 6)).toBe(1);
    const mail = await onlyMail(s, conversation.id);
    expect(mail.subject).toBe('New reply from links.shop.test');
    expect(mail.text).toContain('Hello to you.');
    expect(`${mail.text}${mail.html}`).not.toContain('evil.example');
    expect(trackedUrls(mail.text!)).toEqual([]);
  });

  it('refuses seen receipts and addresses that are not, with a reason, and keeps seen from moving back or past the thread', async () => {
    const s = await server();
    const { session, conversation } = await visitorWithAddress(s, 'nadia@example.test');
    const stranger = await boot(s);
    expect((await widgetCall(s, 'POST', `/messenger/conversations/${conversation.id}/seen`, { body: { through: 1 } })).status).toBe(401);
    expect((await seen(s, stranger.session, conversation.id, { through: 1 })).status).toBe(404);
    for (const body of [{}, { through: 0 }, { through: -1 }, { through: 1.5 }, { through: '7' }, { through: 1, more: true }]) {
      const res = await seen(s, session, conversation.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/^(through|body): /);
    }
    const first = await reply(s, conversation.id, 'One');
    await reply(s, conversation.id, 'Two');
    expect((await seen(s, session, conversation.id, { through: 1_000_000 })).status).toBe(204);
    const last = (await teamView(s, conversation.id)).messages.at(-1)!.id;
    expect((await teamView(s, conversation.id)).seenThrough).toBe(last);
    expect((await seen(s, session, conversation.id, { through: first })).status).toBe(204);
    expect((await teamView(s, conversation.id)).seenThrough).toBe(last);

    for (const email of ['not an address', 'nadia@', `${'n'.repeat(320)}@example.test`, 42]) {
      const res = await widgetCall(s, 'POST', '/messenger/contact-email', { session, body: { email } });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: string };
      expect(error).toMatch(/^email: (must be an email address such as you@example\.com|too big)/i);
      expect(error).not.toContain('nadia');
    }
    expect((await widgetCall(s, 'POST', '/messenger/contact-email', { body: { email: 'x@example.test' } })).status).toBe(401);
    expect((await teamView(s, conversation.id)).contactEmail).toBe('nadia@example.test');
  });

  it('finds what is due in the database: a server started again mails what the one before left', async () => {
    const first = await server();
    const { conversation } = await visitorWithAddress(first, 'nadia@example.test');
    await reply(first, conversation.id, 'We do: two days to Lyon.');
    await first.close();
    servers.splice(servers.indexOf(first), 1);

    const next = await server({}, first.dir);
    expect(await lookIn(next, 6)).toBe(1);
    expect((await mailsOf(next, conversation.id)).map((x) => x.mail.text)).toEqual([expect.stringContaining('two days to Lyon')]);
  });

  it('sends each mail once when two nodes on one database look at the same time', async () => {
    const shared = tempDir();
    dirs.push(shared);
    const node = (name: string) =>
      server({ CLICKTRAIL_DB: join(shared, 'clicktrail.db'), CLICKTRAIL_DATA_DIR: join(shared, name), CLICKTRAIL_SECRET: 'shared', CLICKTRAIL_ADMIN_TOKEN: 'shared' }, join(shared, name));
    const a = await node('a');
    const b = await node('b');
    const conversations: number[] = [];
    for (let i = 0; i < 12; i++) {
      const { conversation } = await visitorWithAddress(i % 2 ? a : b, `visitor${i}@example.test`);
      await reply(a, conversation.id, `Answer ${i}`);
      conversations.push(conversation.id);
    }
    const at = Date.now() + 6 * MINUTE;
    const sent = await Promise.all([a, b, a, b].map((n) => n.ctx.messenger.replyEmails.run(at)));
    expect(sent.reduce((x, y) => x + y, 0)).toBe(12);
    const files = [...(await outboxMails(a, 'reply-')), ...(await outboxMails(b, 'reply-'))].map((x) => x.file);
    expect(files).toHaveLength(12);
    expect(new Set(files.map((f) => f.split('-')[1])).size).toBe(12);
    expect(await sql(a, "SELECT count(*) AS n, sum(CASE WHEN status = 'sent' AND attempts = 1 THEN 1 ELSE 0 END) AS ok FROM reply_emails")).toEqual([{ n: 12, ok: 12 }]);
  });

  it('sends again, as the same mail, a claim a crash left behind; and not at all what the visitor saw meanwhile', async () => {
    const s = await server();
    const { conversation } = await visitorWithAddress(s, 'nadia@example.test');
    const other = await visitorWithAddress(s, 'omar@example.test');
    await reply(s, conversation.id, 'We do: two days to Lyon.');
    const seenReply = await reply(s, other.conversation.id, 'Yes, in store too.');
    // A process claims both and dies before sending either.
    const now = Date.now() + 6 * MINUTE;
    const clock = { now, dueBy: now - 5 * MINUTE, oldestBy: 0, abandonedBefore: 0, retryBefore: 0, maxAttempts: 5 };
    const claims = await s.ctx.store.claimReplyEmails(clock, 50);
    expect(claims.map((c) => c.conversationId).sort()).toEqual([conversation.id, other.conversation.id].sort());
    expect((await seen(s, other.session, other.conversation.id, { through: seenReply })).status).toBe(204);

    // Still within its lease: it may be sending yet.
    expect(await s.ctx.messenger.replyEmails.run(now + MINUTE)).toBe(0);
    expect(await s.ctx.messenger.replyEmails.run(now + 11 * MINUTE)).toBe(1);
    const mail = await onlyMail(s, conversation.id);
    const claim = claims.find((c) => c.conversationId === conversation.id)!;
    expect(mail.messageId).toBe(`<clicktrail.reply.${claim.id}.${claim.createdAt.toString(36)}@links.shop.test>`);
    expect((await teamView(s, conversation.id)).replyEmails).toEqual([expect.objectContaining({ id: claim.id, status: 'sent' })]);
    expect(await mailsOf(s, other.conversation.id)).toEqual([]);
    expect((await teamView(s, other.conversation.id)).replyEmails).toEqual([expect.objectContaining({ status: 'seen', sentAt: null })]);
    expect(await sqlValue(s, 'SELECT attempts FROM reply_emails WHERE id = ?', claim.id)).toBe(2);
  });

  it('keeps a refused mail failed, without the address in the log or the database, and tries it again later', async () => {
    const smtp = await startSmtp({ reject: ['nadia@example.test'] });
    const s = await server({ CLICKTRAIL_SMTP_URL: smtp.url });
    try {
      const log = logged();
      const { conversation } = await visitorWithAddress(s, 'nadia@example.test');
      await reply(s, conversation.id, 'We do: two days to Lyon.');
      expect(await lookIn(s, 6)).toBe(0);
      expect((await teamView(s, conversation.id)).replyEmails).toEqual([expect.objectContaining({ status: 'failed', sentAt: null })]);
      const error = await sqlValue<string>(s, 'SELECT error FROM reply_emails');
      expect(error).toMatch(/unavailable/);
      expect(error).not.toContain('nadia');
      expect(log()).toMatch(/reply email \d+ of conversation \d+ failed \(attempt 1, tried again in 5 minutes\)/);
      expect(log()).not.toContain('nadia');
      expect(await lookIn(s, 8)).toBe(0); // before its retry time
      expect(await lookIn(s, 12)).toBe(0);
      expect(await sqlValue(s, 'SELECT attempts FROM reply_emails')).toBe(2);
      expect(smtp.received).toEqual([]);
    } finally {
      // The server's pooled connection first: the SMTP server waits for it to close.
      await s.close();
      servers.splice(servers.indexOf(s), 1);
      await smtp.close();
    }
  });
});
