import { describe, expect, it } from 'vitest';
import type { MessageStats } from '../../api/types.ts';
import { useTestServer, type TestServer } from '../support/server.ts';
import { sql } from '../support/sql.ts';
import { hit, sendMessage } from '../support/tracking.ts';

let s: TestServer;
// Behind a proxy on loopback, as a deployment behind a load balancer: X-Forwarded-For is the client.
useTestServer(
  (server) => {
    s = server;
  },
  { CLICKTRAIL_TRUSTED_PROXIES: '127.0.0.1' },
);

const HTML = '<a href="https://www.shop.test/a">A</a><a href="https://www.shop.test/b">B</a><a href="https://www.shop.test/c">C</a>';
/** What Safe Links sends: a current Chrome, an ordinary Accept-Language. */
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/146.0.0.0 Safari/537.36';
/** Exchange Online Protection (Microsoft 365 endpoints, Exchange Online, ID 10: 40.107.0.0/16). */
const MICROSOFT = '40.107.33.17';
const HOME = '81.2.69.160';

interface Step {
  /** Seconds after delivery. */
  at: number;
  link: 0 | 1 | 2 | 'honeypot';
  from: string;
}

/**
 * A recipient's hits, each as if it came `at` seconds after their mail was delivered (the
 * delivery time is moved back before each hit). Returns the cookies handed out and the
 * verdicts stored, in order.
 */
async function scenario(steps: Step[]) {
  const sent = await sendMessage(s, HTML, [{ email: 'michelle@shop.test', name: 'Michelle Obama' }], 0);
  const copy = sent.copies.get('michelle@shop.test')!;
  let cookies = 0;
  for (const step of steps) {
    await sql(s, 'UPDATE recipients SET sent_at = ? WHERE message_id = ?', Date.now() - step.at * 1000, sent.id);
    s.ctx.tracking.forgetRecipients();
    const res = await hit(s, step.link === 'honeypot' ? copy.honeypot : copy.links[step.link]!, {
      ua: CHROME,
      headers: { 'x-forwarded-for': step.from },
    });
    expect(res.status).toBe(302); // a person behind a scanner is never stranded
    if (res.headers.get('set-cookie')) cookies++;
  }
  await s.ctx.tracking.settle();
  const verdicts = await sql<{ bot: string | null; suspect: string | null }>(
    s,
    `SELECT c.bot_reason AS bot, c.suspect_reason AS suspect FROM clicks c JOIN links l ON l.id = c.link_id WHERE l.honeypot = 0 ORDER BY c.id`,
  );
  const stats = (await (await s.api('GET', `/api/messages/${sent.id}/stats`)).json()) as MessageStats;
  return { cookies, verdicts: verdicts.map((v) => v.bot ?? (v.suspect ? `suspect:${v.suspect}` : 'human')), stats };
}

describe('mail scanners, as published reports describe them', () => {
  it('Safe Links hitting every link at +2, +16, +30 s from Microsoft: 3 bot, no cookie', async () => {
    const r = await scenario([
      { at: 2, link: 0, from: MICROSOFT },
      { at: 16, link: 1, from: MICROSOFT },
      { at: 30, link: 2, from: MICROSOFT },
    ]);
    expect(r.verdicts).toEqual(['scanner-network', 'scanner-network', 'scanner-network']);
    expect(r.cookies).toBe(0);
    expect(r.stats.clicks).toMatchObject({ total: 0, bot: 3 });
  });

  it('the same at +12, +13, +14 s: 3 bot, no cookie', async () => {
    const r = await scenario([
      { at: 12, link: 0, from: MICROSOFT },
      { at: 13, link: 1, from: MICROSOFT },
      { at: 14, link: 2, from: MICROSOFT },
    ]);
    expect(r.verdicts).toEqual(['scanner-network', 'scanner-network', 'scanner-network']);
    expect(r.cookies).toBe(0);
  });

  it('a scanner following only the first link at +40 s from Microsoft: bot, no cookie', async () => {
    const r = await scenario([{ at: 40, link: 0, from: MICROSOFT }]);
    expect(r.verdicts).toEqual(['scanner-network']);
    expect(r.cookies).toBe(0);
  });

  it('a person opening the 3 links of a 3-link mail in tabs within 3 s: 3 human, identified by the first', async () => {
    const r = await scenario([
      { at: 3600, link: 0, from: HOME },
      { at: 3601, link: 1, from: HOME },
      { at: 3602, link: 2, from: HOME },
    ]);
    // The third completes "every link within a minute": still a person's, but it identifies nobody.
    expect(r.verdicts).toEqual(['human', 'human', 'suspect:burst']);
    expect(r.stats.clicks).toMatchObject({ total: 3, unique: 1, bot: 0, suspect: 1 });
    expect(r.cookies).toBe(2);
  });

  it('a scanner walking every link and the honeypot, +40 to +61 s, from an unlisted network: bot, and no cookie first', async () => {
    const r = await scenario([
      { at: 40, link: 0, from: HOME },
      { at: 47, link: 1, from: HOME },
      { at: 54, link: 2, from: HOME },
      { at: 61, link: 'honeypot', from: HOME },
    ]);
    expect(r.verdicts).toEqual(['honeypot', 'honeypot', 'honeypot']);
    expect(r.cookies).toBe(0);
    expect(r.stats.clicks).toMatchObject({ total: 0, unique: 0, bot: 4, suspect: 0 });
    expect(r.stats.reasons).toEqual({ bot: { honeypot: 4 }, suspect: {} });
  });

  it('takes the settings’ own scanner networks too, and refuses a range it cannot read', async () => {
    for (const bad of [['10.0.0.0/33'], ['not a range'], ['2001:db8::/129']]) {
      const res = await s.api('PATCH', '/api/settings', { scannerNetworks: bad });
      expect(res.status, bad[0]).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/^scannerNetworks\.0: /);
    }
    expect((await s.api('PATCH', '/api/settings', { scannerNetworks: ['81.2.69.0/24'] })).status).toBe(200);
    const r = await scenario([{ at: 3600, link: 0, from: HOME }]);
    expect(r.verdicts).toEqual(['scanner-network']);
    expect(r.cookies).toBe(0);
  });
});
