import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'parse5';
import { describe, expect, it } from 'vitest';
import type { LinkPlacement, MessageCreated } from '../../api/types.ts';
import { clickToken, openToken } from '../../server/tokens/tokens.ts';
import { fixtureTemplates, trackedUrls, useTestServer, type TestServer } from '../support/server.ts';

let s: TestServer;
useTestServer((server) => {
  s = server;
});

interface Anchor {
  /** The href as a browser reads it (entities decoded, trimmed). */
  href: string;
  /** The href's value exactly as written in the source. */
  raw: string;
}

/** Every <a href> of a document, read with parse5's plain tree (independently of the rewriter). */
function anchorsOf(html: string): Anchor[] {
  const anchors: Anchor[] = [];
  const walk = (node: any) => {
    if (node.tagName === 'a') {
      const href = node.attrs.find((a: any) => a.name === 'href');
      if (href) {
        const loc = node.sourceCodeLocation.attrs.href;
        const written = /^[^=]*=\s*(?:"([^"]*)"|'([^']*)'|(.*))$/s.exec(html.slice(loc.startOffset, loc.endOffset));
        anchors.push({ href: href.value.trim(), raw: written ? (written[1] ?? written[2] ?? written[3]!) : '' });
      }
    }
    for (const child of node.childNodes ?? []) walk(child);
    if (node.content) walk(node.content);
  };
  walk(parse(html, { sourceCodeLocationInfo: true }));
  return anchors;
}

const MERGE_TAG = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

/** Attributes for every merge tag a template uses: URL-looking names get URLs, the rest plain words. */
function attributesFor(html: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const [, tag] of html.matchAll(MERGE_TAG)) {
    // `{{attributes.X}}` and `{{X}}` both name the attribute X.
    const name = tag!.replace(/^attributes\./, '');
    attrs[name] = name.endsWith('_url') ? `https://app.example.com/${name}` : `value${name.length}`;
  }
  return attrs;
}

function fill(html: string, email: string, name: string, attrs: Record<string, string>): string {
  const [first, ...rest] = name.split(' ');
  return html.replace(MERGE_TAG, (_, tag: string) =>
    tag === 'email'
      ? email
      : tag === 'name'
        ? name
        : tag === 'first_name'
          ? first!
          : tag === 'last_name'
            ? rest.join(' ')
            : (attrs[tag.replace(/^attributes\./, '')] ?? ''),
  );
}

describe('every fixture template: create, preview, send', () => {
  for (const [file, html] of fixtureTemplates()) {
    it(file, async () => {
      const created = await s.api('POST', '/api/messages', { subject: `Fixture ${file}`, html });
      expect(created.status).toBe(201);
      const { id, links } = (await created.json()) as MessageCreated;

      // The placements are the original's anchors, in order; exactly the http(s) and merge-tag ones tracked.
      const anchors = anchorsOf(html);
      const hrefs = anchors.map((a) => a.href);
      expect(links.map((l) => l.url)).toEqual(hrefs);
      expect(links.map((l) => l.position)).toEqual(hrefs.map((_, i) => i));
      for (const link of links) {
        expect(link.tracked).toBe(/^https?:\/\//i.test(link.url) || /^\{\{[^}]+\}\}$/.test(link.url));
      }
      expect(links.some((l) => l.tracked)).toBe(true);

      const attributes = attributesFor(html);
      const email = 'michelle@shop.test';
      const name = 'Michelle Obama';
      expect((await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email, name, attributes }] })).status).toBe(200);
      const preview = await s.api('GET', `/api/messages/${id}/preview?email=${encodeURIComponent(email)}`);
      expect(preview.status).toBe(200);
      expect(preview.headers.get('content-type')).toMatch(/^text\/html/);
      const rendered = await preview.text();

      // Drop the footer (honeypot and pixel), map each tracked link back to what the author wrote:
      // the original, byte for byte.
      const footer = new RegExp(
        '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all" aria-hidden="true"><a href="http://links\\.shop\\.test/c/([A-Za-z0-9_-]+)" tabindex="-1">&#8203;</a></div>' +
          '<img src="http://links\\.shop\\.test/o/([A-Za-z0-9_-]+)" width="1" height="1" alt="" style="[^"]*">',
      ).exec(rendered);
      expect(footer).not.toBeNull();
      if (/<\/body>/i.test(html)) expect(rendered.slice(footer!.index + footer![0].length)).toMatch(/^<\/body>/i);
      const message = await s.ctx.store.getMessage(id);
      expect(clickToken.verify(s.ctx.keys, footer![1]!)).toMatchObject({ linkId: message!.honeypotLinkId });
      expect(openToken.verify(s.ctx.keys, footer![2]!)).toEqual({ recipientId: expect.any(Number) });
      let restored = rendered.replace(footer![0], '');

      const byId = new Map(links.map((l) => [l.id, l]));
      const tracked = trackedUrls(restored);
      expect(tracked).toHaveLength(links.filter((l) => l.tracked).length);
      expect(new Set(tracked).size).toBe(tracked.length);
      for (const url of tracked) {
        const token = clickToken.verify(s.ctx.keys, url.split('/c/')[1]!);
        expect(token).not.toBeNull();
        const written = anchors[byId.get(token!.linkId)!.position]!.raw;
        restored = restored.replace(url, () => written);
      }
      expect(fill(restored, email, name, attributes)).toBe(fill(html, email, name, attributes));

      // mailto:, tel: and sms: links come through as written (with their merge tags filled).
      const direct = (h: string) => /^(mailto|tel|sms):/.test(h);
      expect(anchorsOf(rendered).map((a) => a.href).filter(direct)).toEqual(hrefs.filter(direct).map((h) => fill(h, email, name, attributes)));

      const sent = await s.api('POST', `/api/messages/${id}/send`);
      expect(await sent.json()).toMatchObject({ sent: 1, failed: 0 });
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
    // No tracked links, so no honeypot: just the text and the open pixel.
    expect(preview).toMatch(/^<p>Hi Anna<\/p><img src="http:\/\/links\.shop\.test\/o\//);
  });

  it('sends once: a second send mails nobody again, and new recipients get theirs', async () => {
    const { id } = (await (await s.api('POST', '/api/messages', { subject: 's', html: '<a href="https://x.test/">x</a>' })).json()) as MessageCreated;
    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'a@shop.test' }, { email: 'b@shop.test' }] });
    const [one, two] = await Promise.all([s.api('POST', `/api/messages/${id}/send`), s.api('POST', `/api/messages/${id}/send`)]);
    const results = [(await one!.json()) as { sent: number }, (await two!.json()) as { sent: number }];
    expect(results[0]!.sent + results[1]!.sent).toBe(2);
    expect(await (await s.api('POST', `/api/messages/${id}/send`)).json()).toEqual({ sent: 0, failed: 0, failures: [] });
    await s.api('POST', `/api/messages/${id}/recipients`, { recipients: [{ email: 'c@shop.test' }] });
    expect(await (await s.api('POST', `/api/messages/${id}/send`)).json()).toMatchObject({ sent: 1, failed: 0 });
    expect(readdirSync(s.ctx.config.outbox).sort()).toHaveLength(3);
  });
});
