import { describe, expect, it } from 'vitest';
import type { MessageCreated } from '../../api/types.ts';
import { trackedUrls, useTestServer, type TestServer } from '../support/server.ts';

let s: TestServer;
useTestServer((server) => {
  s = server;
});

const HTML = '<a href="https://www.shop.test/p">shop</a> <a href="https://app.shop.test/open">app</a>';

async function create(): Promise<MessageCreated> {
  return (await (await s.api('POST', '/api/messages', { subject: 's', html: HTML })).json()) as MessageCreated;
}

describe('settings', () => {
  it('has privacy-minded defaults', async () => {
    expect(await (await s.api('GET', '/api/settings')).json()).toMatchObject({
      clickTracking: true,
      leadEmailIdentification: true,
      universalLinkDomains: [],
      identificationWindowDays: 7,
      identityCookieDays: 30,
      scannerWindowSeconds: 10,
      earlyWindowSeconds: 60,
      mergeTagHosts: [],
      scannerNetworks: [],
      messengerGreeting: 'Hi {{first_name | there}} 👋',
      messengerIntro: expect.any(String),
      allowedOrigins: [],
      webhookUrl: null,
      // Generated once per database by migration 3.
      webhookSecret: expect.stringMatching(/^[0-9a-f]{64}$/),
      identitySecret: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('changes how new messages are rewritten, leaving sent ones as they were', async () => {
    const before = await create();
    expect(before.links.map((l) => l.tracked)).toEqual([true, true]);

    const patched = await s.api('PATCH', '/api/settings', { universalLinkDomains: ['App.Shop.Test'] });
    expect(await patched.json()).toMatchObject({ universalLinkDomains: ['app.shop.test'], clickTracking: true });
    const universal = await create();
    expect(universal.links.map((l) => [l.tracked, l.reason])).toEqual([
      [true, undefined],
      [false, 'universal-link'],
    ]);

    await s.api('PATCH', '/api/settings', { clickTracking: false });
    const off = await create();
    expect(off.links.every((l) => !l.tracked)).toBe(true);
    await s.api('POST', `/api/messages/${off.id}/recipients`, { recipients: [{ email: 'a@shop.test' }] });
    const preview = await (await s.api('GET', `/api/messages/${off.id}/preview?email=a@shop.test`)).text();
    expect(trackedUrls(preview)).toEqual([]);
    expect(preview).toContain('href="https://www.shop.test/p"');

    // The first message keeps its tracked placements.
    const first = (await (await s.api('GET', `/api/messages/${before.id}`)).json()) as MessageCreated;
    expect(first.links.map((l) => l.tracked)).toEqual([true, true]);
  });

  it('refuses unknown keys and bad values with a reason, changing nothing', async () => {
    for (const [body, error] of [
      [{ clickTracking: 'yes' }, /^clickTracking: /],
      [{ universalLinkDomains: ['not a domain'] }, /^universalLinkDomains\.0: must be a domain/],
      [{ identityCookieDays: 0 }, /^identityCookieDays: /],
      [{ colour: 'red' }, /colour/],
    ] as const) {
      const res = await s.api('PATCH', '/api/settings', body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(error);
    }
    expect(await (await s.api('GET', '/api/settings')).json()).toMatchObject({ clickTracking: true, universalLinkDomains: [] });
  });
});
