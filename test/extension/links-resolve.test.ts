import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LinksResolved } from '../../api/types.ts';
import { clickToken } from '../../server/tokens/tokens.ts';
import { removeDir, testServer, trackedUrls, type TestServer } from '../support/server.ts';

let server: TestServer;
let messageId: number;
let urls: string[];

beforeAll(async () => {
  server = testServer();
  const created = await server.api('POST', '/api/messages', {
    subject: 'Spring sale',
    html: '<p><a href="https://shop.test/sale">Sale</a> <a href="https://shop.test/sale">Sale again</a> <a href="mailto:x@shop.test">mail</a></p>',
  });
  messageId = ((await created.json()) as { id: number }).id;
  await server.api('POST', `/api/messages/${messageId}/recipients`, { recipients: [{ email: 'ada@shop.test', name: 'Ada' }] });
  const preview = await server.api('GET', `/api/messages/${messageId}/preview?email=ada@shop.test`);
  urls = trackedUrls(await preview.text());
});
afterAll(async () => {
  await server.close();
  removeDir(server.dir);
});

const resolve = async (body: unknown) => server.api('POST', '/api/links/resolve', body);

describe('POST /api/links/resolve', () => {
  it('maps tracked links, direct or wrapped by Gmail or Outlook, to their message and placement', async () => {
    // Two placements and the hidden honeypot link, which is nobody's to paint.
    expect(urls).toHaveLength(3);
    const gmail = `https://www.google.com/url?q=${encodeURIComponent(urls[1]!)}&sa=D`;
    const res = await resolve({ urls: [urls[0], gmail, urls[0], urls[2]] });
    expect(res.status).toBe(200);
    const { links } = (await res.json()) as LinksResolved;
    expect(links).toHaveLength(2);
    expect(links[0]).toMatchObject({ url: urls[0], messageId });
    expect(links[1]).toMatchObject({ url: gmail, messageId });
    // Same destination, two placements: two link ids.
    expect(links[0]!.linkId).not.toBe(links[1]!.linkId);
  });

  it('leaves out foreign links, forged tokens, other origins and tokens naming nothing', async () => {
    const token = urls[0]!.split('/c/')[1]!;
    const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    const res = await resolve({
      urls: [
        'https://shop.test/sale',
        `http://links.shop.test/c/${forged}`,
        `http://elsewhere.test/c/${token}`,
        `http://links.shop.test/c/${clickToken.sign(server.ctx.keys, 999, 1)}`,
        'not a url',
      ],
    });
    expect(((await res.json()) as LinksResolved).links).toEqual([]);
  });

  it('needs the admin token and a list of URLs', async () => {
    expect((await server.app.request('/api/links/resolve', { method: 'POST', body: '{"urls":[]}' })).status).toBe(401);
    expect((await resolve({ url: 'x' })).status).toBe(400);
  });
});
