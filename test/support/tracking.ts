import type Database from 'better-sqlite3';
import type { LinkPlacement, MessageCreated } from '../../api/types.ts';
import type { SqliteStore } from '../../server/store/sqlite/store.ts';
import { join } from 'node:path';
import { sql } from './sql.ts';
import { tempDir, testServer, type TestServer } from './server.ts';

export const BROWSER_UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';

export interface SentMessage {
  id: number;
  links: LinkPlacement[];
  /** Per recipient email: the tracked URLs of their copy in document order (tracked links, then the honeypot), and the pixel. */
  copies: Map<string, { links: string[]; honeypot: string; pixel: string }>;
}

export function db(s: TestServer): Database.Database {
  return (s.ctx.store as SqliteStore).db;
}

/**
 * Creates a message, adds the recipients, sends it (to the outbox) and moves its sent time
 * back by sentAgoMs, so clicks are not taken for a scanner's just after delivery.
 */
export async function sendMessage(
  s: TestServer,
  html: string,
  recipients: { email: string; name?: string; attributes?: Record<string, string> }[],
  sentAgoMs = 3_600_000,
): Promise<SentMessage> {
  const { id, links } = (await (await s.api('POST', '/api/messages', { subject: 'Hello', html })).json()) as MessageCreated;
  await s.api('POST', `/api/messages/${id}/recipients`, { recipients });
  await s.api('POST', `/api/messages/${id}/send`);
  await sql(s, 'UPDATE recipients SET sent_at = sent_at - ? WHERE message_id = ?', sentAgoMs, id);
  const copies = new Map<string, { links: string[]; honeypot: string; pixel: string }>();
  for (const r of recipients) {
    const html = await (await s.api('GET', `/api/messages/${id}/preview?email=${encodeURIComponent(r.email)}`)).text();
    const urls = [...html.matchAll(/href="(http:\/\/links\.shop\.test\/c\/[^"]+)"/g)].map((m) => m[1]!.replace('http://links.shop.test', ''));
    const pixel = /src="http:\/\/links\.shop\.test(\/o\/[^"]+)"/.exec(html)![1]!;
    copies.set(r.email, { links: urls.slice(0, -1), honeypot: urls.at(-1)!, pixel });
  }
  return { id, links, copies };
}

/** A hit as a mail client or browser would make it, through the lane production answers it on. */
export function hit(s: TestServer, path: string, init: { method?: string; ua?: string; headers?: Record<string, string> } = {}) {
  return s.fetch(path, {
    method: init.method ?? 'GET',
    // A person's browser always says which languages it reads; scanners often don't.
    headers: { 'user-agent': init.ua ?? BROWSER_UA, 'accept-language': 'en-GB,en;q=0.9', ...init.headers },
  });
}

/** The environment of a server on the folder sentInFreshFolder made. */
export const CHILD_ENV = { CLICKTRAIL_ADMIN_TOKEN: 'test-admin-token', CLICKTRAIL_SECRET: 'test-secret', CLICKTRAIL_PUBLIC_URL: 'http://links.shop.test' };

/**
 * A sent message in a fresh data folder, made by the in-process app and closed again, for a
 * server started as a child process on the same folder (env). The caller removes `dir`.
 */
export async function sentInFreshFolder(html: string, recipients: { email: string }[]) {
  const dir = tempDir();
  const env = { ...CHILD_ENV, CLICKTRAIL_DB: join(dir, 'clicktrail.db') };
  const s = testServer(env, dir);
  const sent = await sendMessage(s, html, recipients);
  await s.close();
  return { dir, env, sent };
}
