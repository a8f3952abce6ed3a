import { describe, expect, it } from 'vitest';
import type { MessageCreated, MessageStats, PersonStats, SendResult, Suppression } from '../../api/types.ts';
import { Keyring, unsubscribeToken } from '../../server/tokens/tokens.ts';
import { headerLine, outboxMails } from '../support/mail.ts';
import { useTestServer, type TestServer } from '../support/server.ts';
import { sql } from '../support/sql.ts';
import { hit } from '../support/tracking.ts';

let s: TestServer;
useTestServer((server) => {
  s = server;
});

const HTML = '<p>Hi {{first_name}}, <a href="https://www.shop.test/beans">new beans</a></p>';
const ONE_CLICK = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' };

async function message(body: Record<string, unknown> = {}): Promise<number> {
  const res = await s.api('POST', '/api/messages', { subject: 'Beans', html: HTML, ...body });
  expect(res.status).toBe(201);
  return ((await res.json()) as MessageCreated).id;
}

async function sendTo(id: number, emails: string[]): Promise<SendResult> {
  await s.api('POST', `/api/messages/${id}/recipients`, { recipients: emails.map((email) => ({ email, name: 'Michelle Obama' })) });
  return (await (await s.api('POST', `/api/messages/${id}/send`)).json()) as SendResult;
}

/** The path of the List-Unsubscribe URL of a recipient's mail, as a mail client reads it from the header. */
async function unsubscribePath(id: number, email: string): Promise<string> {
  const recipient = (await s.ctx.store.findRecipient(id, email))!;
  const { mail } = (await outboxMails(s, `${id}-${recipient.id}.`))[0]!;
  return new URL(/^<([^>]+)>/.exec(headerLine(mail, 'List-Unsubscribe')!)![1]!).pathname;
}

const suppressions = async () => (await (await s.api('GET', '/api/suppressions')).json()) as Suppression[];
const people = async (id: number) => (await (await s.api('GET', `/api/messages/${id}/people`)).json()) as PersonStats[];

describe('one-click unsubscribe (RFC 8058)', () => {
  it('unsubscribes on the one-click POST, idempotently; a GET only shows the confirm page', async () => {
    const id = await message();
    await sendTo(id, ['michelle@shop.test', 'barack@shop.test']);
    const path = await unsubscribePath(id, 'michelle@shop.test');

    // What every mail scanner does: fetch the link. Nobody is unsubscribed by it.
    for (let i = 0; i < 3; i++) {
      const page = await s.fetch(path);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      const html = await page.text();
      expect(html).toContain('<html lang="en">');
      expect(html).toMatch(/<form method="post"><input type="hidden" name="confirm" value="yes"><button type="submit"[^>]*>Unsubscribe<\/button><\/form>/);
      // The address masked: enough for its owner, nothing for anyone else.
      expect(html).toContain('m•••@shop.test');
      expect(html).not.toContain('michelle');
    }
    expect((await hit(s, path, { method: 'HEAD' })).status).toBe(200);
    expect(await suppressions()).toEqual([]);
    expect((await people(id)).map((p) => p.unsubscribedAt)).toEqual([null, null]);

    const res = await s.fetch(path, ONE_CLICK);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('Unsubscribed.');
    const [suppression, ...more] = await suppressions();
    expect(more).toEqual([]);
    expect(suppression).toEqual({ email: 'michelle@shop.test', reason: 'unsubscribed', messageId: id, at: expect.any(String) });
    const [michelle, barack] = await people(id);
    expect(michelle!.unsubscribedAt).toBe(suppression!.at);
    expect(barack!.unsubscribedAt).toBeNull();
    const stats = (await (await s.api('GET', `/api/messages/${id}/stats`)).json()) as MessageStats;
    expect(stats).toMatchObject({ recipients: 2, sent: 2, unsubscribes: 1 });
    // Nothing about it is a click: the unsubscribe link is never tracked.
    expect(stats.clicks).toEqual({ total: 0, unique: 0, bot: 0, suspect: 0 });

    // Again (a mail client retrying): the same answer, the first time kept.
    expect(await (await s.fetch(path, ONE_CLICK)).text()).toBe('Unsubscribed.');
    expect(await suppressions()).toEqual([suppression]);
    expect((await people(id))[0]!.unsubscribedAt).toBe(suppression!.at);
  });

  it('unsubscribes through the confirm page\'s own form with a page in answer, and refuses a POST that asks for nothing', async () => {
    const id = await message();
    await sendTo(id, ['michelle@shop.test']);
    const path = await unsubscribePath(id, 'michelle@shop.test');

    const empty = await s.fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'other=1' });
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('Nothing changed');
    expect(await suppressions()).toEqual([]);

    const confirmed = await s.fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=yes' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await confirmed.text();
    expect(html).toContain('You are unsubscribed');
    expect(html).not.toContain('michelle');
    expect((await suppressions()).map((x) => x.email)).toEqual(['michelle@shop.test']);

    // A one-click POST may come as multipart (RFC 8058 allows both).
    const other = await message();
    await sendTo(other, ['barack@shop.test']);
    const form = new FormData();
    form.set('List-Unsubscribe', 'One-Click');
    expect((await s.fetch(await unsubscribePath(other, 'barack@shop.test'), { method: 'POST', body: form })).status).toBe(200);
    expect((await suppressions()).map((x) => x.email).sort()).toEqual(['barack@shop.test', 'michelle@shop.test']);
  });

  it('answers a forged, mangled or unknown token with the 404 page, for GET and POST alike', async () => {
    const id = await message();
    await sendTo(id, ['michelle@shop.test']);
    const real = (await unsubscribePath(id, 'michelle@shop.test')).slice(3);
    const forged = unsubscribeToken.sign(new Keyring(['not the server secret']), 1);
    const nobody = unsubscribeToken.sign(s.ctx.keys, 9_999);
    const mangled = real.slice(0, -2) + (real.endsWith('AA') ? 'BB' : 'AA');
    for (const token of [forged, nobody, mangled, 'short', 'x'.repeat(200)]) {
      for (const init of [{}, ONE_CLICK]) {
        const res = await s.fetch(`/u/${token}`, init);
        expect(res.status, token).toBe(404);
        expect(await res.text()).toContain('This link is not valid');
      }
    }
    expect(await suppressions()).toEqual([]);
  });
});

describe('the suppression list', () => {
  it('skips a suppressed address at the next send, mails it again once lifted, and never applies to a transactional email', async () => {
    const first = await message();
    await sendTo(first, ['michelle@shop.test']);
    expect((await s.fetch(await unsubscribePath(first, 'michelle@shop.test'), ONE_CLICK)).status).toBe(200);

    // The next marketing email: the same person under another spelling of the address is left out, with the reason.
    const next = await message({ subject: 'More beans' });
    const result = await sendTo(next, ['Michelle@Shop.test', 'barack@shop.test']);
    expect(result).toMatchObject({ sent: 1, failed: 0, failures: [], skipped: 1, skips: [{ email: 'Michelle@Shop.test', reason: 'unsubscribed' }] });
    const michelle = (await s.ctx.store.findRecipient(next, 'michelle@shop.test'))!;
    expect(michelle).toMatchObject({ status: 'skipped', sentAt: null });
    expect((await outboxMails(s, `${next}-`)).map((m) => m.mail.to)).toMatchObject([{ value: [{ address: 'barack@shop.test' }] }]);
    expect((await (await s.api('GET', `/api/messages/${next}`)).json()).delivery).toEqual({ recipients: 2, pending: 0, sent: 1, failed: 0, skipped: 1 });
    // Still suppressed: a second send skips her again, and mails nobody twice.
    expect(await (await s.api('POST', `/api/messages/${next}/send`)).json()).toMatchObject({ sent: 0, skipped: 1 });

    // A receipt is not marketing: it goes whatever the list says.
    const receipt = await message({ subject: 'Your receipt', kind: 'transactional' });
    expect(await sendTo(receipt, ['michelle@shop.test'])).toMatchObject({ sent: 1, skipped: 0, skips: [] });

    // Lifted (by any spelling): the skipped recipient is mailed by the next send.
    const lifted = await s.api('DELETE', `/api/suppressions/${encodeURIComponent('MICHELLE@shop.test')}`);
    expect(lifted.status).toBe(204);
    expect(await suppressions()).toEqual([]);
    const again = await s.api('DELETE', '/api/suppressions/michelle%40shop.test');
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ error: 'address on the suppression list not found' });
    expect(await (await s.api('POST', `/api/messages/${next}/send`)).json()).toMatchObject({ sent: 1, skipped: 0, skips: [] });
    expect(await s.ctx.store.findRecipient(next, 'michelle@shop.test')).toMatchObject({ status: 'sent' });
    expect(await outboxMails(s, `${next}-${michelle.id}.`)).toHaveLength(1);
    // What she did stays on the message she did it through.
    expect((await (await s.api('GET', `/api/messages/${first}/stats`)).json()).unsubscribes).toBe(1);
  });

  it('lists newest first, takes ?limit=, and needs the admin token', async () => {
    const id = await message();
    const emails = ['a@shop.test', 'b@shop.test', 'c@shop.test'];
    await sendTo(id, emails);
    for (const email of emails) expect((await s.fetch(await unsubscribePath(id, email), ONE_CLICK)).status).toBe(200);
    // Set apart in time (relative to when they were made): the order is the time's, not the address's.
    await sql(s, 'UPDATE suppressions SET at = at - ? WHERE email = ?', 60_000, 'c@shop.test');
    await sql(s, 'UPDATE suppressions SET at = at + ? WHERE email = ?', 60_000, 'a@shop.test');
    expect((await suppressions()).map((x) => x.email)).toEqual(['a@shop.test', 'b@shop.test', 'c@shop.test']);
    expect(((await (await s.api('GET', '/api/suppressions?limit=2')).json()) as Suppression[]).map((x) => x.email)).toEqual(['a@shop.test', 'b@shop.test']);
    expect((await s.api('GET', '/api/suppressions?limit=0')).status).toBe(400);
    expect((await s.app.request('/api/suppressions')).status).toBe(401);
    expect((await s.app.request('/api/suppressions/a%40shop.test', { method: 'DELETE' })).status).toBe(401);
    expect(await suppressions()).toHaveLength(3);
  });
});
