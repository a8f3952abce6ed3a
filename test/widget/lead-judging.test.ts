import { describe, expect, it } from 'vitest';
import type { Conversation, TeamEvent, WidgetConversation } from '../../api/types.ts';
import { useTestServer, type TestServer } from '../support/server.ts';
import { sql } from '../support/sql.ts';
import { hit, sendMessage } from '../support/tracking.ts';
import { boot, SITE, widgetCall } from './support.ts';

let s: TestServer;
const DELAY_S = 1;
useTestServer(async (server) => {
  s = server;
  // The production rule with a shorter wait: the team is told once the click is judged.
  await s.api('PATCH', '/api/settings', { allowedOrigins: [SITE], identificationDelaySeconds: DELAY_S });
});

const HTML = `<a href="${SITE}/a">A</a><a href="${SITE}/b">B</a><a href="${SITE}/c">C</a>`;
const notifications = async () => (await (await s.api('GET', '/api/notifications')).json()) as TeamEvent[];
const leadVisits = async () => (await notifications()).filter((e) => e.type === 'lead.visit');
const judged = () => new Promise((r) => setTimeout(r, DELAY_S * 1000 + 500));

/** Michelle's click through the real redirect: the identity cookie it set. */
async function click(path: string): Promise<string> {
  const res = await hit(s, path);
  expect(res.status).toBe(302);
  const cookie = /^clicktrail_id=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  expect(cookie).toBeDefined();
  return cookie!;
}

describe('an identifying click, before and after it is judged', () => {
  it('greets at once, and tells the team (visit, conversation) only once the click is judged a person’s', async () => {
    const sent = await sendMessage(s, HTML, [{ email: 'michelle@shop.test', name: 'Michelle Obama' }]);
    const cookie = await click(sent.copies.get('michelle@shop.test')!.links[0]!);

    const booted = await boot(s, { identity: cookie, url: `${SITE}/a` });
    expect(booted).toMatchObject({ firstName: 'Michelle', identifiedBy: 'email-click' });
    const started = (await (
      await widgetCall(s, 'POST', '/messenger/conversations', { session: booted.session, body: { body: 'Do you ship to Leeds?', clientId: 'leeds-question-1' } })
    ).json()) as WidgetConversation;
    // Not judged yet: nobody is named to the team.
    expect(await leadVisits()).toEqual([]);
    const early = (await (await s.api('GET', `/api/conversations/${started.id}`)).json()) as Conversation;
    expect(early.person).toBeNull();

    await judged();
    const visits = await leadVisits();
    expect(visits).toHaveLength(1);
    expect(visits[0]).toMatchObject({ person: { email: 'michelle@shop.test' }, identifiedBy: 'email-click', url: `${SITE}/a`, messageId: sent.id });
    const later = (await (await s.api('GET', `/api/conversations/${started.id}`)).json()) as Conversation;
    expect(later).toMatchObject({ person: { email: 'michelle@shop.test' }, identifiedBy: 'email-click' });
  });

  it('names nobody when a scanner’s later hits take the click back, though its cookie greeted the sandbox', async () => {
    const sent = await sendMessage(s, HTML, [{ email: 'michelle@shop.test', name: 'Michelle Obama' }]);
    const copy = sent.copies.get('michelle@shop.test')!;
    // A detonating gateway: the first link looks like a person's, then it walks on to the honeypot.
    const cookie = await click(copy.links[0]!);
    const sandbox = await boot(s, { identity: cookie, url: `${SITE}/a` });
    expect(sandbox.firstName).toBe('Michelle');
    expect((await hit(s, copy.honeypot)).status).toBe(302);

    await judged();
    expect(await leadVisits()).toEqual([]);
    // The cookie is nobody's now: the next page load is anonymous.
    expect(await boot(s, { identity: cookie, url: `${SITE}/b`, session: sandbox.session })).toMatchObject({ firstName: null, identifiedBy: null });
    await judged();
    expect(await leadVisits()).toEqual([]);
  });

  it('keeps a goal event done before the click is judged, and counts it for her once it is', async () => {
    const { id } = (await (
      await s.api('POST', '/api/messages', { subject: 'Try it', html: `<a href="${SITE}/signup">Sign up</a>`, goal: { event: 'signed_up', withinDays: 7 } })
    ).json()) as { id: number };
    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'gina@shop.test', name: 'Gina Goal' }] });
    await s.api('POST', `/api/messages/${id}/send`);
    await sql(s, 'UPDATE recipients SET sent_at = sent_at - 3600000 WHERE message_id = ?', id);
    const html = await (await s.api('GET', `/api/messages/${id}/preview?email=gina@shop.test`)).text();
    const cookie = await click(/href="http:\/\/links\.shop\.test(\/c\/[^"]+)"/.exec(html)![1]!);
    const { session } = await boot(s, { identity: cookie, url: `${SITE}/signup` });
    const tracked = await widgetCall(s, 'POST', '/messenger/events', { session, body: { name: 'signed_up' } });
    expect(await tracked.json()).toEqual({ recorded: false, goalsCompleted: 0, pending: true });
    const goal = async () => ((await (await s.api('GET', `/api/messages/${id}/stats`)).json()) as { goal: { completed: number } }).goal.completed;
    expect(await goal()).toBe(0);
    await judged();
    expect(await goal()).toBe(1);
  });

  it('tells the team at once of a visitor whose click was judged long ago', async () => {
    const sent = await sendMessage(s, HTML, [{ email: 'michelle@shop.test', name: 'Michelle Obama' }]);
    const cookie = await click(sent.copies.get('michelle@shop.test')!.links[0]!);
    await judged();
    await boot(s, { identity: cookie, url: `${SITE}/c` });
    expect((await leadVisits()).map((v) => v.type === 'lead.visit' && v.url)).toEqual([`${SITE}/c`]);
  });
});
