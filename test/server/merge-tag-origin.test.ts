import { describe, expect, it } from 'vitest';
import { clickToken } from '../../server/tokens/tokens.ts';
import { useTestServer, type TestServer } from '../support/server.ts';
import { hit, sendMessage } from '../support/tracking.ts';

let s: TestServer;
useTestServer((server) => {
  s = server;
});

const HTML =
  '<a href="{{action_url}}">Your order</a>' +
  '<a href="https://shop.test{{attributes.path}}">Your page</a>' +
  '<a href="https://shop.test/u/{{attributes.id}}">Your account</a>';

/**
 * Where each of the recipient's three links goes: its 302 Location, or the status when there
 * is none. Each link's token is signed here, as it would be in the mail, whatever the mail shows.
 */
async function destinations(attributes: Record<string, string>): Promise<(string | number)[]> {
  const sent = await sendMessage(s, HTML, [{ email: 'a@shop.test', attributes }]);
  const recipient = await s.ctx.store.findRecipient(sent.id, 'a@shop.test');
  const out: (string | number)[] = [];
  for (const link of sent.links.filter((l) => l.tracked)) {
    const res = await hit(s, `/c/${clickToken.sign(s.ctx.keys, recipient!.id, link.id)}`);
    out.push(res.headers.get('location') ?? res.status);
  }
  return out;
}

describe('a value filled into a tracked link', () => {
  it('never changes the origin the template writes', async () => {
    // Found by the audit: each of these made a tracked link of ours send people to another site.
    expect(await destinations({ action_url: 'https://www.shop.test/orders/1', path: '.evil.com', id: '7' })).toEqual([
      'https://www.shop.test/orders/1',
      404,
      'https://shop.test/u/7',
    ]);
    expect(await destinations({ action_url: 'https://x.test/', path: ':8080/x', id: '../../@evil.com' })).toEqual([
      'https://x.test/',
      404,
      'https://shop.test/u/..%2F..%2F%40evil.com',
    ]);
    expect(await destinations({ action_url: 'https://x.test/', path: '@evil.com', id: '1' })).toEqual(['https://x.test/', 404, 'https://shop.test/u/1']);
    // A value is percent-encoded as one URL component, so even a path there makes no host of ours.
    expect(await destinations({ action_url: 'https://x.test/', path: '/orders/42', id: '1' })).toEqual(['https://x.test/', 404, 'https://shop.test/u/1']);
  });

  it('renders a link that recipient data would take elsewhere as no link, tracked or direct', async () => {
    const sent = await sendMessage(s, HTML, [{ email: 'a@shop.test', attributes: { action_url: 'https://x.test/', path: '.evil.com', id: '1' } }]);
    const html = await (await s.api('GET', `/api/messages/${sent.id}/preview?email=a@shop.test`)).text();
    expect(html).toContain('<a href="#">Your page</a>');
    expect(html).not.toContain('evil.com');
  });

  it('sends a whole-href tag only to an absolute http(s) URL, and only to mergeTagHosts when they are set', async () => {
    for (const bad of ['javascript:alert(1)', '//evil.com/', 'evil.com', '/relative']) {
      expect((await destinations({ action_url: bad, path: '/', id: '1' }))[0], bad).toBe(404);
    }
    expect((await destinations({ action_url: 'https://evil.com/', path: '/', id: '1' }))[0]).toBe('https://evil.com/');

    expect((await s.api('PATCH', '/api/settings', { mergeTagHosts: ['shop.test'] })).status).toBe(200);
    expect((await destinations({ action_url: 'https://evil.com/', path: '/', id: '1' }))[0]).toBe(404);
    expect((await destinations({ action_url: 'https://shop.test@evil.com/', path: '/', id: '1' }))[0]).toBe(404);
    expect((await destinations({ action_url: 'https://shop.test.evil.com/', path: '/', id: '1' }))[0]).toBe(404);
    expect((await destinations({ action_url: 'https://www.shop.test/a', path: '/', id: '1' }))[0]).toBe('https://www.shop.test/a');
    expect((await destinations({ action_url: 'https://shop.test/b', path: '/', id: '1' }))[0]).toBe('https://shop.test/b');
    const bad = await s.api('PATCH', '/api/settings', { mergeTagHosts: ['https://shop.test/'] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^mergeTagHosts\.0: /);
  });
});
