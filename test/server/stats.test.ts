import { describe, expect, it } from 'vitest';
import type { MessageStats, MessageSummary, PersonStats } from '../../api/types.ts';
import { useTestServer, type TestServer } from '../support/server.ts';
import { sql, sqlRow } from '../support/sql.ts';
import { hit, sendMessage } from '../support/tracking.ts';

let s: TestServer;
useTestServer((server) => {
  s = server;
});

const HTML = `<html><body>
<a href="https://www.shop.test/a">Alpha</a>
<a href="https://www.shop.test/b">Bravo</a>
<a href="https://www.shop.test/c">Charlie</a>
<a href="mailto:help@shop.test">Help</a>
</body></html>`;
const people = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'].map((r) => ({ email: `${r}@shop.test`, name: `Person ${r}` }));

describe('stats and people from a scripted sequence of clicks', () => {
  it('counts humans and suspected bots apart, per link and per person', async () => {
    const sent = await sendMessage(s, HTML, people);
    const link = (r: string, i: number) => sent.copies.get(`${r}@shop.test`)!.links[i]!;
    const copy = (r: string) => sent.copies.get(`${r}@shop.test`)!;
    const OUTLOOK_SAFE_LINKS_UA = 'Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0; BingPreview/1.0b)';

    // r1 reads and clicks Alpha twice and Bravo once; r2 clicks Alpha.
    await hit(s, link('r1', 0));
    await hit(s, link('r1', 0));
    await hit(s, link('r1', 1));
    await hit(s, link('r2', 0));
    // r3's gateway checks links with HEAD and with a crawler user agent.
    await hit(s, link('r3', 0), { method: 'HEAD' });
    await hit(s, link('r3', 1), { ua: OUTLOOK_SAFE_LINKS_UA });
    // r4's scanner opens all three links at once with a browser-like agent and no
    // Accept-Language: a burst, and a second signal that says machine.
    const scanner = { headers: { 'accept-language': '' } };
    await hit(s, link('r4', 0), scanner);
    await hit(s, link('r4', 1), scanner);
    await hit(s, link('r4', 2), scanner);
    // r2's browser prefetches Charlie.
    await hit(s, link('r2', 2), { headers: { 'sec-purpose': 'prefetch' } });
    // r5 looks human on Bravo until the honeypot is hit: both are a machine's.
    await hit(s, link('r5', 1));
    await hit(s, copy('r5').honeypot);
    // Opens: r1 twice, Apple Mail Privacy Protection for r2, Gmail's proxy for r6 (a real open).
    await hit(s, copy('r1').pixel);
    await hit(s, copy('r1').pixel);
    await hit(s, copy('r2').pixel, { ua: 'Mozilla/5.0' });
    await hit(s, copy('r6').pixel, { ua: 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)' });

    const stats = (await (await s.api('GET', `/api/messages/${sent.id}/stats`)).json()) as MessageStats;
    expect(stats).toMatchObject({
      recipients: 6,
      sent: 6,
      opens: { total: 3, unique: 2, bot: 1 },
      // the honeypot hit itself is a bot click of the message, though not of any link
      clicks: { total: 4, unique: 2, bot: 8, suspect: 0 },
      reasons: { bot: { 'bot-ua': 1, burst: 3, head: 1, honeypot: 2, prefetch: 1 }, suspect: {} },
      goal: null,
    });
    expect(stats.links.map((l) => [l.text, l.clicks])).toEqual([
      ['Alpha', { total: 3, unique: 2, bot: 2, suspect: 0 }],
      ['Bravo', { total: 1, unique: 1, bot: 3, suspect: 0 }],
      ['Charlie', { total: 0, unique: 0, bot: 2, suspect: 0 }],
    ]);
    expect(stats.timeline).toHaveLength(1);
    expect(stats.timeline[0]).toMatchObject({ human: 4, bot: 8 });

    const reasons = await sql(s, 'SELECT bot_reason AS r, count(*) AS n FROM clicks GROUP BY 1 ORDER BY 1 NULLS FIRST');
    expect(reasons).toEqual([
      { r: null, n: 4 },
      { r: 'bot-ua', n: 1 },
      { r: 'burst', n: 3 },
      { r: 'head', n: 1 },
      { r: 'honeypot', n: 2 },
      { r: 'prefetch', n: 1 },
    ]);

    const list = (await (await s.api('GET', `/api/messages/${sent.id}/people`)).json()) as PersonStats[];
    const byEmail = new Map(list.map((p) => [p.email, p]));
    const [alpha, bravo, charlie] = stats.links.map((l) => l.id);
    expect(byEmail.get('r1@shop.test')).toMatchObject({
      name: 'Person r1',
      openedAt: expect.any(String),
      clicks: [
        { linkId: alpha, count: 2, bot: 0, firstAt: expect.any(String), lastAt: expect.any(String) },
        { linkId: bravo, count: 1, bot: 0 },
      ],
      goalAt: null,
    });
    expect(byEmail.get('r2@shop.test')).toMatchObject({ openedAt: null, clicks: [{ linkId: alpha, count: 1 }, { linkId: charlie, count: 0, bot: 1 }] });
    const burst = { bot: { burst: 1 }, suspect: {} };
    expect(byEmail.get('r4@shop.test')!.clicks).toEqual([
      { linkId: alpha, count: 0, suspect: 0, bot: 1, reasons: burst, firstAt: null, lastAt: null },
      { linkId: bravo, count: 0, suspect: 0, bot: 1, reasons: burst, firstAt: null, lastAt: null },
      { linkId: charlie, count: 0, suspect: 0, bot: 1, reasons: burst, firstAt: null, lastAt: null },
    ]);
    // The honeypot is nobody's link: it stays out of the per-person list.
    expect(byEmail.get('r5@shop.test')!.clicks).toEqual([
      { linkId: bravo, count: 0, suspect: 0, bot: 1, reasons: { bot: { honeypot: 1 }, suspect: {} }, firstAt: null, lastAt: null },
    ]);
    expect(byEmail.get('r6@shop.test')).toMatchObject({ openedAt: expect.any(String), clicks: [] });

    const summary = ((await (await s.api('GET', '/api/messages')).json()) as MessageSummary[])[0]!;
    expect(summary).toMatchObject({ id: sent.id, recipients: 6, sent: 6, opens: stats.opens, clicks: stats.clicks });
  });

  it('takes a click within the scanner window after delivery for a scanner', async () => {
    const sent = await sendMessage(s, HTML, people.slice(0, 1), 0);
    await hit(s, sent.copies.get('r1@shop.test')!.links[0]!);
    expect(await sqlRow(s, 'SELECT bot_reason FROM clicks')).toEqual({ bot_reason: 'too-soon' });
    await s.api('PATCH', '/api/settings', { scannerWindowSeconds: 0 });
    await hit(s, sent.copies.get('r1@shop.test')!.links[0]!);
    const stats = (await (await s.api('GET', `/api/messages/${sent.id}/stats`)).json()) as MessageStats;
    // Past the window but within a minute of delivery, with nothing else machine-like: a
    // person's click, counted, but one that identifies nobody.
    expect(stats.clicks).toEqual({ total: 1, unique: 1, bot: 1, suspect: 1 });
    expect(stats.reasons).toEqual({ bot: { 'too-soon': 1 }, suspect: { early: 1 } });
  });

  it('does not take two quick clicks on a two-link message for a burst', async () => {
    const sent = await sendMessage(s, '<a href="https://x.test/1">1</a><a href="https://x.test/2">2</a>', people.slice(0, 1));
    for (const url of sent.copies.get('r1@shop.test')!.links) await hit(s, url);
    const stats = (await (await s.api('GET', `/api/messages/${sent.id}/stats`)).json()) as MessageStats;
    expect(stats.clicks).toEqual({ total: 2, unique: 1, bot: 0, suspect: 0 });
  });

  it('answers 404 for stats of a message that does not exist', async () => {
    expect((await s.api('GET', '/api/messages/12345/stats')).status).toBe(404);
    expect((await s.api('GET', '/api/messages/12345/people')).status).toBe(404);
  });
});
