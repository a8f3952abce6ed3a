import { describe, expect, it, vi } from 'vitest';
import type { Conversation, ConversationMessage, ConversationSummary, WidgetConversation } from '../../api/types.ts';
import { userHash } from '../../server/messenger/identify.ts';
import { LIMITS } from '../../server/messenger/rate-limit.ts';
import { clickToken, identityCookie, Keyring } from '../../server/tokens/tokens.ts';
import { useTestServer, type TestServer } from '../support/server.ts';
import { sql, sqlValue } from '../support/sql.ts';
import { allowSite, boot, michelleClicked, SITE, sseReader, widgetCall } from './support.ts';

let s: TestServer;
useTestServer(async (server) => {
  s = server;
  await allowSite(server);
});

const error = async (res: Response) => ((await res.json()) as { error: string }).error;
const identitySecret = async () => ((await (await s.api('GET', '/api/settings')).json()) as { identitySecret: string }).identitySecret;
/** A signed-in shop user as the shop's backend hands them to the widget: only the user id is signed. */
const signedIn = async (userId: string, email: string, name?: string) => ({
  userId,
  email,
  ...(name === undefined ? {} : { name }),
  userHash: userHash(await identitySecret(), userId),
});
const conversationsForTeam = async () => (await (await s.api('GET', '/api/conversations')).json()) as ConversationSummary[];
const teamView = async (id: number) => (await conversationsForTeam()).find((c) => c.id === id)!;
let clientIds = 0;
const clientId = () => `client-${Date.now()}-${++clientIds}`;

async function start(session: { id: number; secret: string }, body: string) {
  const res = await widgetCall(s, 'POST', '/messenger/conversations', { session, body: { body, clientId: clientId(), pageUrl: `${SITE}/beans` } });
  expect(res.status).toBe(201);
  return (await res.json()) as WidgetConversation;
}

describe('messenger boot and identity', () => {
  it('boots an anonymous visitor with a new session, and the same session again without a new one', async () => {
    const first = await boot(s);
    expect(first).toMatchObject({ greeting: 'Hi there 👋', firstName: null, identifiedBy: null, conversations: [] });
    expect(first.session.secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const again = await boot(s, { session: first.session });
    expect(again.visitorId).toBe(first.visitorId);
    expect('session' in (await (await widgetCall(s, 'POST', '/messenger/boot', { body: { session: first.session } })).json())).toBe(false);
    // A wrong secret is not that session: a fresh one is made.
    const stranger = await boot(s, { session: { id: first.session.id, secret: 'guessed' } });
    expect(stranger.visitorId).not.toBe(first.visitorId);
  });

  it('greets a visitor with a valid click cookie by first name, and tells the page nothing more', async () => {
    const { cookie } = await michelleClicked(s);
    const res = await widgetCall(s, 'POST', '/messenger/boot', { body: { identity: cookie, url: `${SITE}/beans` } });
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ greeting: 'Hi Michelle 👋', firstName: 'Michelle', identifiedBy: 'email-click' });
    expect(text).not.toContain('michelle@shop.test');
    expect(text).not.toContain('Obama');
  });

  it('boots forged, expired, foreign, mismatched cookies and made-up click times as anonymous, and honours the settings and GPC', async () => {
    const { cookie, recipient, link } = await michelleClicked(s);
    const anonymous = { firstName: null, identifiedBy: null, greeting: 'Hi there 👋' };
    const token = clickToken.sign(s.ctx.keys, recipient.id, link.id);
    const { clickAt } = identityCookie.read(s.ctx.keys, cookie)!;
    const DAY = 86_400_000;
    const cases = {
      forged: `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}.${clickAt.toString(36)}`,
      // Her real click's token, with a time no click of hers had: not a click the database knows, and not one just made.
      madeUpTime: identityCookie.value(token, clickAt - 20 * 60_000),
      future: identityCookie.value(token, Date.now() + 10 * 60_000),
      expired: identityCookie.value(token, Date.now() - 31 * DAY),
      foreign: identityCookie.value(clickToken.sign(new Keyring(['another workspace']), recipient.id, link.id), clickAt),
      noSuchLink: identityCookie.value(clickToken.sign(s.ctx.keys, recipient.id, link.id + 1000), clickAt),
      junk: 'not a token',
      empty: '',
    };
    for (const [name, identity] of Object.entries(cases)) {
      expect(await boot(s, { identity }), name).toMatchObject(anonymous);
    }
    expect(await boot(s, { identity: cookie })).toMatchObject({ identifiedBy: 'email-click' });
    expect(await boot(s, { identity: cookie }, { 'sec-gpc': '1' })).toMatchObject(anonymous);
    // The cookie's days and the identification window are the server's to hold, whatever the browser keeps.
    await s.api('PATCH', '/api/settings', { identityCookieDays: 1 });
    await sql(s, 'UPDATE clicks SET at = ? WHERE recipient_id = ?', clickAt - 2 * DAY, recipient.id);
    const dayOld = identityCookie.value(token, clickAt - 2 * DAY);
    expect(await boot(s, { identity: dayOld })).toMatchObject(anonymous);
    await s.api('PATCH', '/api/settings', { identityCookieDays: 30 });
    expect(await boot(s, { identity: dayOld })).toMatchObject({ identifiedBy: 'email-click' });
    // Her click a week and a day after the mail reached her: the redirect would not have identified her.
    await sql(s, 'UPDATE recipients SET sent_at = ? WHERE id = ?', clickAt - 2 * DAY - 8 * DAY, recipient.id);
    expect(await boot(s, { identity: dayOld })).toMatchObject(anonymous);
    await s.api('PATCH', '/api/settings', { leadEmailIdentification: false });
    expect(await boot(s, { identity: cookie })).toMatchObject(anonymous);
  });

  it('uses the greeting setting, whose merge tags see only the first name', async () => {
    await s.api('PATCH', '/api/settings', { messengerGreeting: 'Welcome back, {{first_name | friend}} ({{email}}{{last_name}})' });
    const { cookie } = await michelleClicked(s);
    expect((await boot(s, { identity: cookie })).greeting).toBe('Welcome back, Michelle ()');
    expect((await boot(s)).greeting).toBe('Welcome back, friend ()');
  });

  it('accepts a verified identity only with the right userHash', async () => {
    const { identitySecret } = (await (await s.api('GET', '/api/settings')).json()) as { identitySecret: string };
    const user = { userId: 'u-42', email: 'ada@shop.test', name: 'Ada Lovelace' };
    const verified = await boot(s, { user: { ...user, userHash: userHash(identitySecret, 'u-42') } });
    expect(verified).toMatchObject({ greeting: 'Hi Ada 👋', identifiedBy: 'verified' });

    for (const wrong of [userHash(identitySecret, 'u-43'), userHash('other secret', 'u-42'), 'f00', '']) {
      const res = await widgetCall(s, 'POST', '/messenger/boot', { body: { user: { ...user, userHash: wrong } } });
      expect(res.status).toBe(403);
      expect(await error(res)).toBe('userHash does not match userId');
    }
  });
});

describe('verified identities', () => {
  it('does not hand a signed-in user the person of the email they claim: not their conversations, name nor goals', async () => {
    // The victim: a lead who clicked an email, and a signed-in user of the shop with a verified conversation.
    const { recipient, cookie } = await michelleClicked(s, { goal: { event: 'signed_up', withinDays: 7 } });
    const lead = await boot(s, { identity: cookie });
    const clickConversation = await start(lead.session, 'about the beans email');
    const victim = await boot(s, { user: await signedIn('victim-1', 'michelle@shop.test', 'Michelle Obama') });
    const verifiedConversation = await start(victim.session, 'my order 1234 and my address');
    const victimPerson = (await teamView(verifiedConversation.id)).person!;

    // The attacker signs in as themselves and claims the victim's email.
    const attacker = await boot(s, { user: await signedIn('attacker-9', 'michelle@shop.test', 'Mallory Mallet') });
    expect(attacker).toMatchObject({ identifiedBy: 'verified', firstName: 'Mallory', conversations: [] });
    for (const id of [verifiedConversation.id, clickConversation.id]) {
      expect((await widgetCall(s, 'GET', `/messenger/conversations/${id}`, { session: attacker.session })).status).toBe(404);
      const write = await widgetCall(s, 'POST', `/messenger/conversations/${id}/messages`, {
        session: attacker.session,
        body: { body: 'change my address', clientId: clientId() },
      });
      expect(write.status).toBe(404);
    }
    expect(await (await widgetCall(s, 'GET', '/messenger/conversations', { session: attacker.session })).json()).toEqual([]);

    // Nor on the live stream, from the start of time: the attacker's own message comes first; then
    // the team answers the victim and the attacker, and only the second answer reaches the attacker.
    const own = await start(attacker.session, 'hello');
    const live = sseReader(await widgetCall(s, 'GET', `/messenger/stream?token=${attacker.streamToken}&after=0`));
    expect(JSON.parse((await live.next()).data)).toMatchObject({ conversationId: own.id, body: 'hello' });
    await s.api('POST', `/api/conversations/${verifiedConversation.id}/replies`, { body: 'Your order ships to 1 Victim Road' });
    await s.api('POST', `/api/conversations/${own.id}/replies`, { body: 'Hi Mallory' });
    expect(JSON.parse((await live.next()).data)).toMatchObject({ conversationId: own.id, body: 'Hi Mallory' });
    await live.close();

    // The attacker is a person of their own; the victim's names are untouched, for the team and the greeting.
    const attackerPerson = (await teamView(own.id)).person!;
    expect(attackerPerson).toEqual({ id: expect.any(Number), name: 'Mallory Mallet', email: 'michelle@shop.test' });
    expect(new Set([attackerPerson.id, victimPerson.id, recipient.personId]).size).toBe(3);
    expect((await teamView(verifiedConversation.id)).person).toEqual(victimPerson);
    expect((await teamView(clickConversation.id)).person).toEqual({ id: recipient.personId, name: 'Michelle Obama', email: 'michelle@shop.test' });
    expect((await boot(s, { identity: cookie })).greeting).toBe('Hi Michelle 👋');
    expect((await boot(s, { session: victim.session, user: await signedIn('victim-1', 'michelle@shop.test') })).conversations.map((c) => c.id)).toEqual([
      verifiedConversation.id,
    ]);

    // The lead's goal is the lead's: the attacker's event reaches nobody's.
    const tracked = await widgetCall(s, 'POST', '/messenger/events', { session: attacker.session, body: { name: 'signed_up' } });
    expect(await tracked.json()).toEqual({ recorded: true, goalsCompleted: 0 });
    expect(await sqlValue(s, 'SELECT goal_at FROM recipients WHERE id = ?', recipient.id)).toBeNull();
  });

  it('keeps two signed-in users with the same email two people, each with their own conversations', async () => {
    const a = await boot(s, { user: await signedIn('u-a', 'family@shop.test', 'Ann Family') });
    const b = await boot(s, { user: await signedIn('u-b', 'FAMILY@shop.test', 'Bob Family') });
    const aConversation = await start(a.session, 'Ann asks');
    const bConversation = await start(b.session, 'Bob asks');
    const [aPerson, bPerson] = [(await teamView(aConversation.id)).person!, (await teamView(bConversation.id)).person!];
    expect(aPerson).toMatchObject({ name: 'Ann Family', email: 'family@shop.test' });
    expect(bPerson).toMatchObject({ name: 'Bob Family', email: 'FAMILY@shop.test' });
    expect(aPerson.id).not.toBe(bPerson.id);
    // From another browser each sees their own only.
    expect((await boot(s, { user: await signedIn('u-a', 'family@shop.test') })).conversations.map((c) => c.id)).toEqual([aConversation.id]);
    expect((await boot(s, { user: await signedIn('u-b', 'family@shop.test') })).conversations.map((c) => c.id)).toEqual([bConversation.id]);
  });

  it('lets the same user id change its own email and name, and keeps its person and conversations', async () => {
    const first = await boot(s, { user: await signedIn('u-5', 'old@shop.test', 'Olga Old') });
    const conversation = await start(first.session, 'before the move');
    const before = (await teamView(conversation.id)).person!;

    const renamed = await boot(s, { user: await signedIn('u-5', 'new@shop.test', 'Nora New') });
    expect(renamed).toMatchObject({ greeting: 'Hi Nora 👋', conversations: [{ id: conversation.id }] });
    expect((await teamView(conversation.id)).person).toEqual({ id: before.id, name: 'Nora New', email: 'new@shop.test' });
    // No name given keeps the one stored.
    expect((await boot(s, { user: await signedIn('u-5', 'newer@shop.test') })).firstName).toBe('Nora');
    expect((await teamView(conversation.id)).person).toEqual({ id: before.id, name: 'Nora New', email: 'newer@shop.test' });
  });

  it('keeps a click-identified lead and the signed-in user with her email apart: the email is not proven hers', async () => {
    const { recipient, cookie } = await michelleClicked(s);
    const clicked = await boot(s, { identity: cookie });
    const fromEmail = await start(clicked.session, 'from the email');
    // The same browser signs in later: its own conversation stays with it, under the lead.
    const signed = await boot(s, { session: clicked.session, identity: cookie, user: await signedIn('m-1', 'michelle@shop.test', 'Michelle O.') });
    expect(signed.conversations.map((c) => c.id)).toEqual([fromEmail.id]);
    const asUser = await start(signed.session, 'signed in now');

    const lead = (await teamView(fromEmail.id)).person!;
    const user = (await teamView(asUser.id)).person!;
    expect(lead).toEqual({ id: recipient.personId, name: 'Michelle Obama', email: 'michelle@shop.test' });
    expect(user).toEqual({ id: expect.any(Number), name: 'Michelle O.', email: 'michelle@shop.test' });
    expect(user.id).not.toBe(lead.id);
    expect(await teamView(fromEmail.id)).toMatchObject({ identifiedBy: 'email-click' });
    expect(await teamView(asUser.id)).toMatchObject({ identifiedBy: 'verified' });
    // Her verified conversations follow her user id to another browser; the email-click one does not.
    expect((await boot(s, { user: await signedIn('m-1', 'michelle@shop.test') })).conversations.map((c) => c.id)).toEqual([asUser.id]);
    // The team's POST /api/events by email still reaches the lead.
    expect((await s.ctx.messenger.store.upsertPerson('michelle@shop.test', null)).id).toBe(recipient.personId);
  });
});

describe('messenger conversations', () => {
  it('starts a conversation the team sees attached to the lead, and carries replies both ways', async () => {
    const { cookie } = await michelleClicked(s);
    const { session } = await boot(s, { identity: cookie });
    const started = await start(session, 'Do you ship to Lyon?');
    expect(started.messages).toMatchObject([{ author: 'visitor', body: 'Do you ship to Lyon?' }]);

    const list = (await (await s.api('GET', '/api/conversations')).json()) as ConversationSummary[];
    expect(list).toMatchObject([
      {
        id: started.id,
        person: { name: 'Michelle Obama', email: 'michelle@shop.test' },
        identifiedBy: 'email-click',
        lastMessage: 'Do you ship to Lyon?',
        pageUrl: `${SITE}/beans`,
      },
    ]);
    const reply = await s.api('POST', `/api/conversations/${started.id}/replies`, { body: 'We do! 2 days.' });
    expect(reply.status).toBe(201);

    const more = await widgetCall(s, 'POST', `/messenger/conversations/${started.id}/messages`, { session, body: { body: 'Great', clientId: clientId() } });
    expect(more.status).toBe(201);
    const seen = (await (await widgetCall(s, 'GET', `/messenger/conversations/${started.id}`, { session })).json()) as WidgetConversation;
    expect(seen.messages.map((m) => [m.author, m.body])).toEqual([
      ['visitor', 'Do you ship to Lyon?'],
      ['team', 'We do! 2 days.'],
      ['visitor', 'Great'],
    ]);
    const full = (await (await s.api('GET', `/api/conversations/${started.id}`)).json()) as Conversation;
    expect(full.messages).toHaveLength(3);
    expect(full.lastMessage).toBe('Great');
  });

  it('shows a click-identified visitor only the conversations of their own browser session', async () => {
    const { cookie } = await michelleClicked(s);
    const first = await boot(s, { identity: cookie });
    const conversation = await start(first.session, 'private question');

    // Same cookie (a forwarded email), another browser: nothing of the first one's.
    const second = await boot(s, { identity: cookie });
    expect(second.firstName).toBe('Michelle');
    expect(second.conversations).toEqual([]);
    for (const [method, path, body] of [
      ['GET', `/messenger/conversations/${conversation.id}`, undefined],
      ['POST', `/messenger/conversations/${conversation.id}/messages`, { body: 'hi', clientId: clientId() }],
    ] as const) {
      const res = await widgetCall(s, method, path, { session: second.session, body });
      expect(res.status).toBe(404);
    }
    expect(await (await widgetCall(s, 'GET', '/messenger/conversations', { session: second.session })).json()).toEqual([]);
    // Without a session at all: 401.
    expect((await widgetCall(s, 'GET', `/messenger/conversations/${conversation.id}`)).status).toBe(401);
    // The first browser, rebooted, still has it.
    expect((await boot(s, { session: first.session, identity: cookie })).conversations.map((c) => c.id)).toEqual([conversation.id]);
  });

  it('shows a verified visitor that person’s verified conversations from any browser, and no one else', async () => {
    const { identitySecret } = (await (await s.api('GET', '/api/settings')).json()) as { identitySecret: string };
    const user = { userId: 'u-7', email: 'michelle@shop.test', name: 'Michelle Obama', userHash: userHash(identitySecret, 'u-7') };
    const laptop = await boot(s, { user });
    const verifiedConversation = await start(laptop.session, 'about my order');

    const phone = await boot(s, { user });
    expect(phone.conversations.map((c) => c.id)).toEqual([verifiedConversation.id]);
    // The same person identified only by a click does not see it.
    const { cookie } = await michelleClicked(s);
    expect((await boot(s, { identity: cookie })).conversations).toEqual([]);
    // Nor does the laptop once it boots without the verified identity (signed out).
    expect((await boot(s, { session: laptop.session })).conversations).toEqual([]);
  });

  it('stores a retried message once (same clientId)', async () => {
    const { session } = await boot(s);
    const id = clientId();
    const a = await widgetCall(s, 'POST', '/messenger/conversations', { session, body: { body: 'hello', clientId: id } });
    const b = await widgetCall(s, 'POST', '/messenger/conversations', { session, body: { body: 'hello', clientId: id } });
    expect([a.status, b.status]).toEqual([201, 200]);
    const conv = (await a.json()) as WidgetConversation;
    expect(((await b.json()) as WidgetConversation).id).toBe(conv.id);
    const mid = clientId();
    const m1 = await widgetCall(s, 'POST', `/messenger/conversations/${conv.id}/messages`, { session, body: { body: 'again', clientId: mid } });
    const m2 = await widgetCall(s, 'POST', `/messenger/conversations/${conv.id}/messages`, { session, body: { body: 'again', clientId: mid } });
    expect([m1.status, m2.status]).toEqual([201, 200]);
    expect(((await m2.json()) as ConversationMessage).id).toBe(((await m1.json()) as ConversationMessage).id);
    expect(((await (await s.api('GET', `/api/conversations/${conv.id}`)).json()) as Conversation).messages).toHaveLength(2);
    // Another visitor replaying the id learns nothing.
    const other = await boot(s);
    expect((await widgetCall(s, 'POST', '/messenger/conversations', { session: other.session, body: { body: 'x', clientId: id } })).status).toBe(404);
  });

  it('keeps message text as text', async () => {
    const { session } = await boot(s);
    const body = '<img src=x onerror=alert(1)> & <b>bold</b>';
    const conv = await start(session, body);
    expect(conv.messages[0]!.body).toBe(body);
  });
});

describe('messenger abuse limits', () => {
  it('refuses pages from origins not on the allow-list, readably and naming the setting, and lets the server’s own origin in', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const evil = await widgetCall(s, 'POST', '/messenger/boot', { body: {}, headers: { origin: 'https://evil.test' } });
      expect(evil.status).toBe(403);
      // The page it refuses can read why (the widget shows it is unavailable), and the setting is named.
      expect(evil.headers.get('access-control-allow-origin')).toBe('https://evil.test');
      expect(await evil.json()).toEqual({
        error: 'origin https://evil.test may not use the messenger: add it to settings.allowedOrigins',
        setting: 'allowedOrigins',
        origin: 'https://evil.test',
      });
      // The preflight passes (it does nothing); the request after it is the one refused.
      const preflight = await widgetCall(s, 'OPTIONS', '/messenger/boot', {
        headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).toBe(204);
      const again = await widgetCall(s, 'POST', '/messenger/conversations', { body: { body: 'hi', clientId: clientId() }, headers: { origin: 'https://evil.test' } });
      expect(again.status).toBe(403);
      await widgetCall(s, 'POST', '/messenger/boot', { body: {}, headers: { origin: 'https://other.test' } });
      // One log line per refused origin, naming the setting.
      const lines = warn.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('allowedOrigins'));
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/refused a page on https:\/\/evil\.test: it is not in settings\.allowedOrigins/);
      expect(lines[1]).toMatch(/https:\/\/other\.test/);
    } finally {
      warn.mockRestore();
    }

    const ok = await widgetCall(s, 'OPTIONS', '/messenger/boot', {
      headers: { 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(SITE);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    const own = await widgetCall(s, 'POST', '/messenger/boot', { body: {}, headers: { origin: 'http://links.shop.test' } });
    expect(own.status).toBe(200);
  });

  it('limits message length and answers bad bodies with a reason', async () => {
    const { session } = await boot(s);
    const cases: [unknown, RegExp][] = [
      [{ body: 'x'.repeat(4001), clientId: clientId() }, /^body: must be at most 4000 characters/],
      [{ body: '   ', clientId: clientId() }, /^body: must not be empty/],
      [{ body: 'hi', clientId: 'x' }, /^clientId: /],
      [{ body: 'hi' }, /^clientId: /],
    ];
    for (const [body, message] of cases) {
      const res = await widgetCall(s, 'POST', '/messenger/conversations', { session, body });
      expect(res.status).toBe(400);
      expect(await error(res)).toMatch(message);
    }
    expect((await widgetCall(s, 'POST', '/messenger/boot', { body: { user: { userId: 'x' } } })).status).toBe(400);
  });

  it('rate-limits writes per visitor and requests per address, with Retry-After', async () => {
    const { session } = await boot(s);
    const conv = await start(session, 'one');
    let status = 0;
    for (let i = 1; i < LIMITS.writesPerVisitor; i++) {
      status = (await widgetCall(s, 'POST', `/messenger/conversations/${conv.id}/messages`, { session, body: { body: `m${i}`, clientId: clientId() } })).status;
      expect(status).toBe(201);
    }
    const limited = await widgetCall(s, 'POST', `/messenger/conversations/${conv.id}/messages`, { session, body: { body: 'too many', clientId: clientId() } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await error(limited)).toMatch(/too many messages/);
    // Another visitor is not held back by the first one's limit.
    const other = await boot(s, {}, {});
    expect((await widgetCall(s, 'POST', '/messenger/conversations', { session: other.session, body: { body: 'hi', clientId: clientId() } })).status).toBe(201);

    let last: Response | undefined;
    for (let i = 0; i <= LIMITS.perIp; i++) last = await widgetCall(s, 'GET', '/messenger/conversations', { session, ip: '198.51.100.9' });
    expect(last!.status).toBe(429);
    expect((await widgetCall(s, 'GET', '/messenger/conversations', { session, ip: '198.51.100.10' })).status).toBe(200);
  });
});

describe('goals', () => {
  it('marks a recipient’s goal when they do the event within the window after their send, once', async () => {
    const { recipient } = await michelleClicked(s, { goal: { event: 'signed_up', withinDays: 3 } });
    const goalAt = () => sqlValue<number | null>(s, 'SELECT goal_at FROM recipients WHERE id = ?', recipient.id);
    expect(await goalAt()).toBeNull();

    const other = await s.api('POST', '/api/events', { email: 'michelle@shop.test', name: 'viewed_pricing' });
    expect(await other.json()).toEqual({ recorded: true, goalsCompleted: 0 });
    expect(await goalAt()).toBeNull();

    const before = Date.now();
    const done = await s.api('POST', '/api/events', { email: 'MICHELLE@shop.test', name: 'signed_up' });
    expect(done.status).toBe(202);
    expect(await done.json()).toEqual({ recorded: true, goalsCompleted: 1 });
    expect(await goalAt()).toBeGreaterThanOrEqual(before);
    const first = await goalAt();
    expect(await (await s.api('POST', '/api/events', { email: 'michelle@shop.test', name: 'signed_up' })).json()).toMatchObject({ goalsCompleted: 0 });
    expect(await goalAt()).toBe(first);

    expect((await s.api('POST', '/api/events', { email: 'nope', name: 'signed_up' })).status).toBe(400);
  });

  it('does not count an event later than withinDays after the send, nor one for a message never sent', async () => {
    const { recipient } = await michelleClicked(s, { goal: { event: 'paid', withinDays: 2 } });
    await sql(s, 'UPDATE recipients SET sent_at = ? WHERE id = ?', Date.now() - 3 * 86_400_000, recipient.id);
    expect(await (await s.api('POST', '/api/events', { email: 'michelle@shop.test', name: 'paid' })).json()).toMatchObject({ goalsCompleted: 0 });

    await sql(s, 'UPDATE recipients SET sent_at = NULL WHERE id = ?', recipient.id);
    expect(await (await s.api('POST', '/api/events', { email: 'michelle@shop.test', name: 'paid' })).json()).toMatchObject({ goalsCompleted: 0 });

    await sql(s, 'UPDATE recipients SET sent_at = ? WHERE id = ?', Date.now() - 1 * 86_400_000, recipient.id);
    expect(await (await s.api('POST', '/api/events', { email: 'michelle@shop.test', name: 'paid' })).json()).toMatchObject({ goalsCompleted: 1 });
  });

  it('counts Clicktrail("track") from the widget for the identified visitor, not for an anonymous one', async () => {
    const { cookie, recipient } = await michelleClicked(s, { goal: { event: 'added_to_cart', withinDays: 7 } });
    const anonymous = await boot(s);
    const a = await widgetCall(s, 'POST', '/messenger/events', { session: anonymous.session, body: { name: 'added_to_cart' } });
    expect(await a.json()).toEqual({ recorded: false, goalsCompleted: 0 });
    const lead = await boot(s, { identity: cookie });
    const b = await widgetCall(s, 'POST', '/messenger/events', { session: lead.session, body: { name: 'added_to_cart' } });
    expect(b.status).toBe(202);
    expect(await b.json()).toEqual({ recorded: true, goalsCompleted: 1 });
    const people = await s.api('GET', `/api/messages/${recipient.messageId}/people`);
    if (people.status === 200) {
      // The lead's per-person stats read the column this sets.
      expect(((await people.json()) as { goalAt: string | null }[])[0]!.goalAt).not.toBeNull();
    }
  });
});
