import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LinkPlacement, MessageCreated, SendResult } from '../../api/types.ts';
import { clickToken, openToken, unsubscribeToken } from '../../server/tokens/tokens.ts';
import { FIXTURES, fixtureTemplates, useTestServer, type TestServer } from '../support/server.ts';
import { hit } from '../support/tracking.ts';
import { clickablesOf, fillOurs, fixtureRecipient, foreignIn, OTHER_SENDERS_BARE, resolvedFilled } from './email-oracle.ts';

let s: TestServer;
useTestServer((server) => {
  s = server;
});

/** A fixture's plain-text part, when it has one (`x.txt` beside `x.html`). */
function textPart(file: string): string | null {
  const path = join(FIXTURES, file.replace(/\.html$/, '.txt'));
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

/** Tracked-link paths (`/c/…`) in a rendered part, in order, with where each one stands. */
function trackedIn(body: string): { path: string; index: number; url: string }[] {
  return [...body.matchAll(/http:\/\/links\.shop\.test(\/c\/[A-Za-z0-9_-]+)/g)].map((m) => ({ path: m[1]!, index: m.index, url: m[0] }));
}

describe('every fixture template: create, preview, send, click', () => {
  for (const [file, html] of fixtureTemplates()) {
    it(file, async () => {
      const text = textPart(file);
      const created = await s.api('POST', '/api/messages', { subject: `Fixture ${file} for {{first_name}}`, html, ...(text !== null && { text }) });
      expect(created.status).toBe(201);
      const { id, links, warnings } = (await created.json()) as MessageCreated;
      expect(Array.isArray(warnings)).toBe(true);

      // Every element a reader can click (anchors, areas, VML shapes and anchors in Outlook's
      // comments) is listed; the ones that may be ours are tracked; each untracked one says why.
      const recipient = fixtureRecipient(html + (text ?? ''));
      const { clickables, base } = clickablesOf(html);
      const urls = new Set(links.filter((l) => l.part === 'html').map((l) => fillOurs(l.url, recipient)));
      expect(urls).toEqual(new Set(clickables.map((c) => resolvedFilled(c.href, base, recipient))));
      for (const link of links) {
        expect(link.tracked, link.url).toBe(link.reason === undefined);
        if (!link.tracked) expect(['not-http', 'foreign-tag'], link.url).toContain(link.reason);
        if (link.reason === 'foreign-tag') expect(foreignIn(link.url), link.url).toBe(true);
      }
      expect(links.some((l) => l.tracked)).toBe(true);

      const email = 'michelle@shop.test';
      const name = 'Michelle Obama';
      const values = { email, name, attributes: recipient.attributes };
      expect((await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email, name, attributes: values.attributes }] })).status).toBe(200);
      const preview = await s.api('GET', `/api/messages/${id}/preview?email=${encodeURIComponent(email)}`);
      expect(preview.status).toBe(200);
      expect(preview.headers.get('content-type')).toMatch(/^text\/html/);
      const rendered = await preview.text();

      // Drop the footer (the unsubscribe line no fixture places itself, honeypot and pixel), map
      // each tracked link back to what the author wrote: the original, byte for byte.
      const footer = new RegExp(
        '<p style="[^"]*">Don&#39;t want these emails\\? <a href="http://links\\.shop\\.test/u/([A-Za-z0-9_-]+)" style="[^"]*">Unsubscribe</a></p>' +
          '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all" aria-hidden="true"><a href="http://links\\.shop\\.test/c/([A-Za-z0-9_-]+)" tabindex="-1">&#8203;</a></div>' +
          '<img src="http://links\\.shop\\.test/o/([A-Za-z0-9_-]+)" width="1" height="1" alt="" style="[^"]*">',
      ).exec(rendered);
      expect(footer).not.toBeNull();
      if (/<\/body>/i.test(html)) expect(rendered.slice(footer!.index + footer![0].length)).toMatch(/^<\/body>/i);
      const message = await s.ctx.store.getMessage(id);
      const recipientId = (await s.ctx.store.findRecipient(id, email))!.id;
      expect(unsubscribeToken.verify(s.ctx.keys, footer![1]!)).toEqual({ recipientId });
      expect(clickToken.verify(s.ctx.keys, footer![2]!)).toEqual({ recipientId, linkId: message!.honeypotLinkId });
      expect(openToken.verify(s.ctx.keys, footer![3]!)).toEqual({ recipientId });
      const body = rendered.replace(footer![0], '');

      // The tracked hrefs stand exactly where the tracked clickables' hrefs were written, in order:
      // put each one's written value back and the original comes out, byte for byte.
      const byId = new Map(links.map((l) => [l.id, l]));
      const found = trackedIn(body);
      const inMail = new Set<number>();
      let restored = '';
      let pos = 0;
      let k = 0;
      for (const t of found) {
        const token = clickToken.verify(s.ctx.keys, t.path.slice(3));
        expect(token).not.toBeNull();
        const link = byId.get(token!.linkId)!;
        expect(link.tracked).toBe(true);
        inMail.add(link.id);
        while (k < clickables.length && resolvedFilled(clickables[k]!.href, base, values) !== fillOurs(link.url, values)) k++;
        expect(k, link.url).toBeLessThan(clickables.length);
        restored += body.slice(pos, t.index) + clickables[k++]!.raw;
        pos = t.index + t.url.length;
      }
      restored += body.slice(pos);
      expect(fillOurs(restored, values)).toBe(fillOurs(html, values));
      // Every tracked placement is in the mail, unless a bare tag in it is another sender's for this recipient.
      for (const l of links.filter((x) => x.tracked && x.part === 'html')) {
        if (!/\{\{[^{}]*\}\}/.test(fillOurs(l.url, values))) expect(inMail.has(l.id), l.url).toBe(true);
      }

      // Each tracked link, through the real redirect, goes where the author's link went.
      for (const t of found) {
        const link = byId.get(clickToken.verify(s.ctx.keys, t.path.slice(3))!.linkId)!;
        const res = await hit(s, t.path);
        expect(res.status, link.url).toBe(302);
        const filled = /^\{\{[^{}]*\}\}$/.test(link.url) ? fillOurs(link.url, values) : fillOurs(link.url, values, encodeURIComponent);
        // A Location is ASCII: a non-ASCII URL goes as the browser itself would request it.
        expect(res.headers.get('location'), link.url).toBe(/[^\x21-\x7e]/.test(filled) ? new URL(filled).href : filled);
      }

      // mailto:, tel: and sms: links come through as written (with their merge tags filled).
      const direct = (h: string) => /^(mailto|tel|sms):/.test(h);
      expect(clickablesOf(rendered).clickables.map((c) => c.href).filter(direct)).toEqual(clickables.map((c) => c.href).filter(direct).map((h) => fillOurs(h, values)));

      const sent = await s.api('POST', `/api/messages/${id}/send`);
      const result = (await sent.json()) as SendResult;
      expect(result).toMatchObject({ sent: 1, failed: 0 });
      // The recipient has a value for every tag of ours; the other senders' bare names are reported as theirs.
      expect(result.warnings.filter((w) => w.reason === 'missing')).toEqual([]);
      for (const w of result.warnings) expect(OTHER_SENDERS_BARE.has(w.tag.replace(/^\{\{\s*|\s*\}\}$/g, '')), w.tag).toBe(true);
      const eml = readdirSync(s.ctx.config.outbox).filter((f) => f.startsWith(`${id}-`));
      expect(eml).toHaveLength(1);
      expect(readFileSync(join(s.ctx.config.outbox, eml[0]!), 'utf8')).toContain('To: Michelle Obama <michelle@shop.test>');
    });
  }
});

describe('messages API', () => {
  it('refuses every /api route without the right bearer token', async () => {
    for (const [method, path] of [
      ['GET', '/api/messages'],
      ['POST', '/api/messages'],
      ['GET', '/api/messages/1'],
      ['POST', '/api/messages/1/send'],
      ['GET', '/api/settings'],
      ['PATCH', '/api/settings'],
      ['GET', '/api/nothing-here'],
    ] as const) {
      expect((await s.app.request(path, { method })).status).toBe(401);
      const wrong = await s.app.request(path, { method, headers: { authorization: 'Bearer not-the-token' } });
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toEqual({ error: 'invalid token' });
    }
  });

  it('answers bad input with a 4xx and a reason, never a stack trace', async () => {
    const cases: [string, string, unknown, number, RegExp][] = [
      ['POST', '/api/messages', '{"subject": "x", "html": ', 400, /valid JSON/],
      ['POST', '/api/messages', { html: '<p>x</p>' }, 400, /^subject: /],
      ['POST', '/api/messages', { subject: 'x', html: '' }, 400, /^html: /],
      ['POST', '/api/messages', { subject: 'x', html: '<p>', channel: 'fax' }, 400, /^channel: /],
      ['POST', '/api/messages', { subject: 'x', html: '<p>', extra: 1 }, 400, /extra/],
      ['POST', '/api/messages', { subject: 'x', html: '<p>', goal: { event: 'paid', withinDays: 0 } }, 400, /^goal\.withinDays: /],
      ['GET', '/api/messages/999', undefined, 404, /message not found/],
      ['GET', '/api/messages/abc', undefined, 404, /not found/],
      ['POST', '/api/messages/999/recipients', { recipients: [{ email: 'a@b.co' }] }, 404, /message not found/],
      ['POST', '/api/messages/999/send', undefined, 404, /message not found/],
      ['GET', '/api/messages/999/preview?email=a@b.co', undefined, 404, /message not found/],
    ];
    for (const [method, path, body, status, error] of cases) {
      const res = await s.api(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(status);
      expect(((await res.json()) as { error: string }).error).toMatch(error);
    }

    const { id } = (await (await s.api('POST', '/api/messages', { subject: 's', html: '<a href="https://x.test/">x</a>' })).json()) as MessageCreated;
    const badRecipients = await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'not an email' }] });
    expect(badRecipients.status).toBe(400);
    expect(((await badRecipients.json()) as { error: string }).error).toMatch(/^recipients\.0\.email: /);
    const stranger = await s.api('GET', `/api/messages/${id}/preview?email=stranger@shop.test`);
    expect(stranger.status).toBe(404);
    expect(await stranger.json()).toEqual({ error: 'recipient not found' });
    expect((await s.api('GET', `/api/messages/${id}/preview`)).status).toBe(400);

    const huge = await s.api('POST', '/api/messages', { subject: 'big', html: 'x'.repeat(3 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: string }).error).toMatch(/larger than/);
    // Nothing half-made was kept by the refusals.
    expect(((await (await s.api('GET', '/api/messages')).json()) as unknown[]).length).toBe(1);
  });

  it('lists messages newest first with recipients and sent counts, and returns one message with its links', async () => {
    const first = (await (await s.api('POST', '/api/messages', { subject: 'first', html: '<a href="https://a.test/">a</a>' })).json()) as MessageCreated;
    const second = (await (
      await s.api('POST', '/api/messages', {
        subject: 'second',
        html: '<a href="https://b.test/">b</a><a href="https://b.test/">b again</a>',
        goal: { event: 'signed_up', withinDays: 3 },
      })
    ).json()) as MessageCreated;
    await s.api('POST', `/api/messages/${second.id}/recipients`, { recipients: [{ email: 'a@shop.test' }, { email: 'b@shop.test' }] });
    await s.api('POST', `/api/messages/${second.id}/send`);

    const list = (await (await s.api('GET', '/api/messages')).json()) as { id: number; recipients: number; sent: number }[];
    expect(list.map((m) => m.id)).toEqual([second.id, first.id]);
    expect(list[0]).toMatchObject({ recipients: 2, sent: 2 });

    const one = (await (await s.api('GET', `/api/messages/${second.id}`)).json()) as { goal: unknown; links: LinkPlacement[] };
    expect(one.goal).toEqual({ event: 'signed_up', withinDays: 3 });
    expect(one.links.map((l) => [l.url, l.position, l.text])).toEqual([
      ['https://b.test/', 0, 'b'],
      ['https://b.test/', 1, 'b again'],
    ]);
    expect(one.links[0]!.id).not.toBe(one.links[1]!.id);
  });

  it('adds recipients, updating the ones already there', async () => {
    const { id } = (await (await s.api('POST', '/api/messages', { subject: 'Hi {{first_name}}', html: '<p>Hi {{first_name}}</p>' })).json()) as MessageCreated;
    const added = await s.api('POST', `/api/messages/${id}/recipients`, {
      recipients: [{ email: 'a@shop.test', name: 'Ann Lee' }, { email: 'b@shop.test' }],
    });
    expect(await added.json()).toEqual({ added: 2, updated: 0 });
    const again = await s.api('POST', `/api/messages/${id}/recipients`, {
      recipients: [{ email: 'A@shop.test', name: 'Anna Lee' }, { email: 'c@shop.test' }],
    });
    expect(await again.json()).toEqual({ added: 1, updated: 1 });
    const preview = await (await s.api('GET', `/api/messages/${id}/preview?email=a@shop.test`)).text();
    // No tracked links, so no honeypot: just the text, the unsubscribe line and the open pixel.
    expect(preview).toMatch(/^<p>Hi Anna<\/p><p [^>]*>Don&#39;t want these emails\? <a href="http:\/\/links\.shop\.test\/u\/[^"]+" [^>]*>Unsubscribe<\/a><\/p><img src="http:\/\/links\.shop\.test\/o\//);
  });

  it('sends once: a second send mails nobody again, and new recipients get theirs', async () => {
    const { id } = (await (await s.api('POST', '/api/messages', { subject: 's', html: '<a href="https://x.test/">x</a>' })).json()) as MessageCreated;
    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'a@shop.test' }, { email: 'b@shop.test' }] });
    const [one, two] = await Promise.all([s.api('POST', `/api/messages/${id}/send`), s.api('POST', `/api/messages/${id}/send`)]);
    const results = [(await one!.json()) as { sent: number }, (await two!.json()) as { sent: number }];
    expect(results[0]!.sent + results[1]!.sent).toBe(2);
    expect(await (await s.api('POST', `/api/messages/${id}/send`)).json()).toEqual({ sent: 0, failed: 0, failures: [], skipped: 0, skips: [], warnings: [] });
    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'c@shop.test' }] });
    expect(await (await s.api('POST', `/api/messages/${id}/send`)).json()).toMatchObject({ sent: 1, failed: 0 });
    expect(readdirSync(s.ctx.config.outbox).sort()).toHaveLength(3);
  });
});
