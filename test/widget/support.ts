import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { MessageCreated, MessengerBootResult, VisitorSession } from '../../api/types.ts';
import type { MessengerBootBody } from '../../api/schemas.ts';
import { clickToken, identityCookie } from '../../server/tokens/tokens.ts';
import type { TestServer } from '../support/server.ts';

export const SITE = 'http://www.shop.test';

/** Calls a /messenger route as the widget does from the shop's page. */
export function widgetCall(
  s: TestServer,
  method: string,
  path: string,
  opts: { body?: unknown; session?: VisitorSession; headers?: Record<string, string>; ip?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { origin: SITE, ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.session) headers.authorization = `Bearer ${opts.session.id}.${opts.session.secret}`;
  return Promise.resolve(
    s.app.request(
      path,
      { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) },
      { incoming: { socket: { remoteAddress: opts.ip ?? '192.0.2.1' } } },
    ),
  );
}

export async function allowSite(s: TestServer): Promise<void> {
  await s.api('PATCH', '/api/settings', { allowedOrigins: [SITE] });
}

export async function boot(
  s: TestServer,
  body: MessengerBootBody = {},
  headers: Record<string, string> = {},
): Promise<MessengerBootResult & { session: VisitorSession }> {
  const res = await widgetCall(s, 'POST', '/messenger/boot', { body: { url: `${SITE}/`, ...body }, headers });
  if (res.status !== 200) throw new Error(`boot answered ${res.status}: ${await res.text()}`);
  const result = (await res.json()) as MessengerBootResult;
  return { ...result, session: result.session ?? body.session! } as MessengerBootResult & { session: VisitorSession };
}

/** A sent message with one tracked link to the shop, and Michelle on it: what her click cookie would name. */
export async function michelleClicked(s: TestServer, opts: { goal?: { event: string; withinDays: number } } = {}) {
  const created = (await (
    await s.api('POST', '/api/messages', {
      subject: 'Our autumn beans',
      html: `<p>Hi {{first_name}}, <a href="${SITE}/beans">see the beans</a></p>`,
      ...(opts.goal ? { goal: opts.goal } : {}),
    })
  ).json()) as MessageCreated;
  await s.api('POST', `/api/messages/${created.id}/recipients`, {
    recipients: [{ email: 'michelle@shop.test', name: 'Michelle Obama' }],
  });
  await s.api('POST', `/api/messages/${created.id}/send`);
  const recipient = (await s.ctx.store.findRecipient(created.id, 'michelle@shop.test'))!;
  const link = created.links[0]!;
  // Her click, two minutes ago: judged a person's by now, so the team may be told who she is.
  const clickAt = Date.now() - 120_000;
  await s.ctx.tracking.record({
    kind: 'click',
    linkId: link.id,
    recipientId: recipient.id,
    messageId: created.id,
    at: clickAt,
    botReason: null,
    suspectReason: null,
    ip: null,
    userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15',
  });
  await s.ctx.tracking.settle();
  const cookie = identityCookie.value(clickToken.sign(s.ctx.keys, recipient.id, link.id), clickAt);
  return { messageId: created.id, link, recipient, cookie };
}

/** Reads an SSE response event by event. */
export function sseReader(res: Response) {
  const queue: EventSourceMessage[] = [];
  let wake: () => void = () => {};
  const parser = createParser({
    onEvent(e) {
      queue.push(e);
      wake();
    },
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let done = false;
  void (async () => {
    for (;;) {
      const { value, done: end } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (end) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    done = true;
    wake();
  })();
  return {
    /** The next event, waiting up to `ms` for it. */
    async next(ms = 5000): Promise<EventSourceMessage> {
      const deadline = Date.now() + ms;
      while (queue.length === 0) {
        if (done) throw new Error('stream ended');
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('no event in time');
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, left);
        });
      }
      return queue.shift()!;
    },
    pending: () => queue.length,
    close: () => reader.cancel(),
  };
}
