import { createServer, request, type Server } from 'node:http';
import { describe, expect, it } from 'vitest';
import { getRequestListener } from '@hono/node-server';
import { trackingListener } from '../../server/tracking/node-listener.ts';
import { clickToken, Keyring } from '../../server/tokens/tokens.ts';
import { useTestServer, type TestServer } from '../support/server.ts';
import { sql, sqlRow, sqlValue } from '../support/sql.ts';
import { hit, sendMessage } from '../support/tracking.ts';

let s: TestServer;
useTestServer((server) => {
  s = server;
});

const clickCount = () => sqlValue<number>(s, 'SELECT count(*) AS n FROM clicks');

describe('the redirect', () => {
  it('answers 302 to the stored destination, with merge tags filled for that recipient', async () => {
    const sent = await sendMessage(
      s,
      '<a href="https://www.shop.test/sale?src=mail&amp;u={{email}}">sale</a><a href="{{action_url}}">act</a>',
      [{ email: 'ann+x@shop.test', attributes: { action_url: 'https://app.shop.test/confirm/abc' } }],
    );
    const [sale, act] = sent.copies.get('ann+x@shop.test')!.links;
    const res = await hit(s, sale!);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://www.shop.test/sale?src=mail&u=ann%2Bx%40shop.test');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect((await hit(s, act!)).headers.get('location')).toBe('https://app.shop.test/confirm/abc');
    expect(await clickCount()).toBe(2);

    // The recipient is cached now; an edit through the API still reaches the next redirect.
    await s.api('POST', `/api/messages/${sent.id}/recipients`, {
      recipients: [{ email: 'ann+x@shop.test', attributes: { action_url: 'https://app.shop.test/confirm/new' } }],
    });
    expect((await hit(s, act!)).headers.get('location')).toBe('https://app.shop.test/confirm/new');
  });

  it('answers HEAD with the same 302, recorded as a bot', async () => {
    const sent = await sendMessage(s, '<a href="https://www.shop.test/">x</a>', [{ email: 'a@shop.test' }]);
    const res = await hit(s, sent.copies.get('a@shop.test')!.links[0]!, { method: 'HEAD' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://www.shop.test/');
    expect(await sql(s, 'SELECT bot_reason FROM clicks')).toEqual([{ bot_reason: 'head' }]);
  });

  it('never answers with a Location it did not store: open-redirect and tamper payloads get a plain 404, on both front ends', async () => {
    // The real server answers /c/ from its node:http fast lane; app.request() goes through Hono.
    const fast = trackingListener(s.ctx);
    const hono = getRequestListener(s.app.fetch);
    const server: Server = createServer((req, res) => {
      if (!fast(req, res)) void hono(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    /** The path sent byte for byte, as an attacker would (fetch would normalise it). */
    const raw = (path: string) =>
      new Promise<{ status: number; location: string | undefined; cookie: unknown; body: string }>((resolve, reject) => {
        const req = request({ port, path, headers: { 'user-agent': 'Mozilla/5.0 (Macintosh) Safari/605.1.15' } }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location, cookie: res.headers['set-cookie'], body }));
        });
        req.on('error', reject);
        req.end();
      });

    const sent = await sendMessage(s, '<a href="https://www.shop.test/">x</a>', [{ email: 'a@shop.test' }]);
    const valid = sent.copies.get('a@shop.test')!.links[0]!;
    const token = valid.slice(3);
    const otherServer = clickToken.sign(new Keyring(['some other server secret']), ...(Object.values(clickToken.verify(s.ctx.keys, token)!) as [number, number]));
    const payloads = [
      '/c///evil.com',
      '/c//evil.com',
      '/c/%2F%2Fevil.com',
      '/c/%2f%2fevil.com',
      '/c/\\evil.com',
      '/c//\\evil.com',
      '/c/https:evil.com',
      '/c/https://evil.com',
      '/c/evil.com%0d%0aLocation:%20https://evil.com',
      '/c/%0d%0aSet-Cookie:x=1',
      `/c/${token}/https://evil.com`,
      `/c/${token}//evil.com`,
      `/c/${token}%2F%2Fevil.com`,
      `/c/${token}%0d%0aLocation:https://evil.com`,
      `/c/${token}x`,
      `/c/${token.slice(0, -1)}`,
      `/c/${otherServer}`,
      '/c/',
      '/c',
      `/o/${token}`.replace('/o/', '/c/') + 'A',
    ];
    for (const path of payloads) {
      const res = await hit(s, path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('location'), path).toBeNull();
      expect(res.headers.get('set-cookie'), path).toBeNull();
      expect(await res.text(), path).not.toMatch(/evil|Error|at \w+ \(/);
      const direct = await raw(path);
      // Node's HTTP parser refuses some of these (a backslash) with 400 before any route sees them.
      expect([400, 404], path).toContain(direct.status);
      expect(direct.location, path).toBeUndefined();
      expect(direct.cookie, path).toBeUndefined();
      expect(direct.body, path).not.toMatch(/evil|Error|at \w+ \(/);
    }
    // A query string appended to a valid link changes nothing about where it goes.
    for (const suffix of ['?next=https://evil.com', '?url=//evil.com&redirect=%2F%2Fevil.com', '#https://evil.com']) {
      const res = await hit(s, valid + suffix);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('https://www.shop.test/');
      if (!suffix.startsWith('#')) expect((await raw(valid + suffix)).location).toBe('https://www.shop.test/');
    }
    server.close();
    expect(await clickCount()).toBe(5);
  });

  it('reads the same request headers on both front ends, whatever their case, repeated ones joined', async () => {
    const fast = trackingListener(s.ctx);
    const server: Server = createServer((req, res) => {
      if (!fast(req, res)) res.writeHead(500).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const raw = (path: string, headers: [string, string][]) =>
      new Promise<{ status: number; cookie: unknown }>((resolve, reject) => {
        // An array of pairs keeps each header's case and repeats, as they came from the client.
        const req = request({ port, path, headers: [['Host', `127.0.0.1:${port}`], ...headers].flat() as unknown as Record<string, string> }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, cookie: res.headers['set-cookie'] }));
        });
        req.on('error', reject);
        req.end();
      });
    // What a Fetch Headers object makes of the same list.
    const joined = (headers: [string, string][]) => {
      const out: Record<string, string> = {};
      for (const [name, value] of headers) {
        const key = name.toLowerCase();
        out[key] = out[key] === undefined ? value : `${out[key]}, ${value}`;
      }
      return out;
    };
    // A recipient per case: one link hit over and over by one recipient is a machine's ('repeat').
    const emails = ['a@shop.test', 'b@shop.test', 'c@shop.test', 'd@shop.test'];
    const sent = await sendMessage(s, '<a href="https://www.shop.test/">x</a>', emails.map((email) => ({ email })));
    const [a, b, c, d] = emails.map((e) => sent.copies.get(e)!.links[0]!);
    const browser: [string, string] = ['User-Agent', 'Mozilla/5.0 (Macintosh) Safari/605.1.15'];
    const cases: { path: string; headers: [string, string][]; reason: string | null; cookie: boolean }[] = [
      { path: a!, headers: [browser], reason: null, cookie: true },
      { path: b!, headers: [browser, ['SEC-GPC', '1']], reason: null, cookie: false },
      { path: c!, headers: [browser, ['Sec-Purpose', 'Prefetch;anonymous-client-ip']], reason: 'prefetch', cookie: false },
      { path: d!, headers: [['user-agent', 'Googlebot/2.1'], browser], reason: 'bot-ua', cookie: false },
    ];
    for (const c of cases) {
      const viaFastLane = await raw(c.path, c.headers);
      // The Hono routes, as app.request() and any other front end see them.
      const viaHono = await s.app.request(c.path, { headers: joined(c.headers) });
      expect(viaFastLane.status).toBe(302);
      expect(viaHono.status).toBe(302);
      expect(Boolean(viaFastLane.cookie), JSON.stringify(c.headers)).toBe(c.cookie);
      expect(Boolean(viaHono.headers.get('set-cookie')), JSON.stringify(c.headers)).toBe(c.cookie);
    }
    server.close();
    const reasons = (await sql<{ bot_reason: string | null }>(s, 'SELECT bot_reason FROM clicks ORDER BY id')).map((r) => r.bot_reason);
    // Each case twice, once per front end, in order.
    expect(reasons).toEqual(cases.flatMap((c) => [c.reason, c.reason]));
  });

  it('refuses a valid token naming a link of another message, and one whose recipient is gone', async () => {
    const one = await sendMessage(s, '<a href="https://one.shop.test/">1</a>', [{ email: 'a@shop.test' }]);
    const two = await sendMessage(s, '<a href="https://two.shop.test/">2</a>', [{ email: 'a@shop.test' }]);
    const r1 = (await s.ctx.store.findRecipient(one.id, 'a@shop.test'))!.id;
    const crossed = clickToken.sign(s.ctx.keys, r1, two.links[0]!.id);
    expect((await hit(s, `/c/${crossed}`)).status).toBe(404);
    expect((await hit(s, `/c/${clickToken.sign(s.ctx.keys, 999_999, one.links[0]!.id)}`)).status).toBe(404);
    expect(await clickCount()).toBe(0);
  });

  it('serves the open pixel uncached, and counts nothing for an unknown token', async () => {
    const sent = await sendMessage(s, '<p>hi</p>', [{ email: 'a@shop.test' }]);
    const res = await hit(s, sent.copies.get('a@shop.test')!.pixel);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/gif');
    expect(res.headers.get('cache-control')).toMatch(/no-store/);
    const gif = Buffer.from(await res.arrayBuffer());
    expect(gif.subarray(0, 6).toString()).toBe('GIF89a');
    expect([gif.readUInt16LE(6), gif.readUInt16LE(8)]).toEqual([1, 1]);
    expect((await hit(s, '/o/AAAAAAAAAAAAAAAAAAAAAA')).status).toBe(404);
    expect(await sqlRow(s, 'SELECT count(*) AS n FROM opens')).toEqual({ n: 1 });
  });

  it('answers HEAD on the open pixel the same from the fast lane and from Hono: no body, counted as a machine’s', async () => {
    const sent = await sendMessage(s, '<p>hi</p>', [{ email: 'a@shop.test' }]);
    const pixel = sent.copies.get('a@shop.test')!.pixel;
    const viaFastLane = await hit(s, pixel, { method: 'HEAD' });
    const viaHono = await s.app.request(pixel, { method: 'HEAD' });
    for (const res of [viaFastLane, viaHono]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/gif');
      expect((await res.arrayBuffer()).byteLength).toBe(0);
    }
    await s.ctx.tracking.settle();
    expect(await sql(s, 'SELECT bot_reason FROM opens ORDER BY id')).toEqual([{ bot_reason: 'head' }, { bot_reason: 'head' }]);
  });

  it('keeps redirecting links sent before click tracking was turned off', async () => {
    const sent = await sendMessage(s, '<a href="https://www.shop.test/">x</a>', [{ email: 'a@shop.test' }]);
    await s.api('PATCH', '/api/settings', { clickTracking: false });
    const res = await hit(s, sent.copies.get('a@shop.test')!.links[0]!);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://www.shop.test/');
  });
});
