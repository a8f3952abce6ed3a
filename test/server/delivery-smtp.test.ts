import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageCreated } from '../../api/types.ts';
import { clickToken, unsubscribeToken } from '../../server/tokens/tokens.ts';
import { startSmtp } from '../support/smtp.ts';
import { removeDir, testServer, trackedUrls, type TestServer } from '../support/server.ts';

let smtp: Awaited<ReturnType<typeof startSmtp>>;
let s: TestServer;
beforeAll(async () => {
  smtp = await startSmtp({ reject: ['bounce@shop.test'] });
  s = testServer({ CLICKTRAIL_SMTP_URL: smtp.url, CLICKTRAIL_FROM: 'Shop Team <team@shop.test>' });
});
afterAll(async () => {
  await s.close();
  await smtp.close();
  removeDir(s.dir);
});

describe('delivery through a real SMTP server', () => {
  it('sends both parts with tracked links that verify, and records a refused recipient without stopping the rest', async () => {
    const created = await s.api('POST', '/api/messages', {
      subject: 'Spring sale for {{first_name}}',
      html: '<html><body><p>Hi {{first_name}},</p><a href="https://www.shop.test/sale?src=mail&amp;id=1">Shop the sale</a></body></html>',
      text: 'Hi {{first_name}}, shop the sale: https://www.shop.test/sale?src=mail&id=1 or read https://blog.shop.test/spring.',
    });
    const { id, links } = (await created.json()) as MessageCreated;
    await s.api('POST', `/api/messages/${id}/recipients`, {
      recipients: [
        { email: 'michelle@shop.test', name: 'Michelle Obama' },
        { email: 'bounce@shop.test', name: 'Nobody' },
        { email: 'barack@shop.test', name: 'Barack Obama' },
      ],
    });

    const result = (await (await s.api('POST', `/api/messages/${id}/send`)).json()) as {
      sent: number;
      failed: number;
      failures: { email: string; error: string }[];
    };
    expect(result.sent).toBe(2);
    expect(result.failed).toBe(1);
    expect(result.failures[0]!.email).toBe('bounce@shop.test');
    expect(result.failures[0]!.error).toMatch(/550|unavailable/);
    expect(smtp.received.map((m) => m.to).sort()).toEqual([['barack@shop.test'], ['michelle@shop.test']]);

    const mail = smtp.received.find((m) => m.to[0] === 'michelle@shop.test')!;
    expect(mail.from).toBe('team@shop.test');
    expect(mail.parsed.subject).toBe('Spring sale for Michelle');
    expect(mail.parsed.to).toMatchObject({ value: [{ address: 'michelle@shop.test', name: 'Michelle Obama' }] });
    expect(mail.parsed.html).toContain('<p>Hi Michelle,</p>');
    // Stable per (message, recipient): a repeat after a crash carries the same Message-ID.
    expect(mail.parsed.messageId).toBe(`<clicktrail.${id}.${(await s.ctx.store.findRecipient(id, 'michelle@shop.test'))!.id}.${(await s.ctx.store.getMessage(id))!.createdAt.toString(36)}@links.shop.test>`);
    // The author's text, then the unsubscribe line it did not write itself.
    const unsubscribe = /^Hi Michelle, shop the sale: http:\/\/links\.shop\.test\/c\/\S+ or read http:\/\/links\.shop\.test\/c\/\S+\.\n\nUnsubscribe: http:\/\/links\.shop\.test\/u\/([\w-]+)$/.exec(mail.parsed.text!);
    expect(unsubscribe, mail.parsed.text).not.toBeNull();

    const recipient = await s.ctx.store.findRecipient(id, 'michelle@shop.test');
    expect(unsubscribeToken.verify(s.ctx.keys, unsubscribe![1]!)).toEqual({ recipientId: recipient!.id });
    const [...htmlLinks] = trackedUrls(mail.parsed.html as string);
    const honeypot = htmlLinks.pop()!;
    expect(clickToken.verify(s.ctx.keys, honeypot.split('/c/')[1]!)?.linkId).toBe((await s.ctx.store.getMessage(id))!.honeypotLinkId);
    expect(mail.parsed.html).toMatch(/<div style="display:none;[^"]*" aria-hidden="true"><a href="http:\/\/links\.shop\.test\/c\/[^"]+" tabindex="-1">/);
    const textLinks = trackedUrls(mail.parsed.text!);
    // The sale link is the same placement in both parts; the blog link exists only in the text.
    expect(textLinks[0]).toBe(htmlLinks[0]);
    const decoded = [...htmlLinks, ...textLinks].map((u) => clickToken.verify(s.ctx.keys, u.split('/c/')[1]!));
    for (const token of decoded) expect(token?.recipientId).toBe(recipient!.id);
    const urls = decoded.map((t) => links.find((l) => l.id === t!.linkId)!.url);
    expect(urls).toEqual(['https://www.shop.test/sale?src=mail&id=1', 'https://www.shop.test/sale?src=mail&id=1', 'https://blog.shop.test/spring']);

    // The failed recipient is recorded, and retried by the next send.
    expect(await s.ctx.store.findRecipient(id, 'bounce@shop.test')).toMatchObject({ status: 'failed', error: expect.stringMatching(/550|unavailable/) });
    expect(await (await s.api('GET', '/api/messages')).json()).toMatchObject([{ id, recipients: 3, sent: 2 }]);
    const again = (await (await s.api('POST', `/api/messages/${id}/send`)).json()) as { sent: number; failed: number };
    expect(again).toMatchObject({ sent: 0, failed: 1 });
    expect(smtp.received).toHaveLength(2);
  });
});
