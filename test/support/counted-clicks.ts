import { expect } from 'vitest';
import type { Store, TrackingWrite } from '../../server/store/store.ts';

/**
 * A database as the release before derived human clicks left it (SQLite's version 10,
 * PostgreSQL's 4), the same SQL for both: a sent message with links 10 and 11, recipient 21
 * who clicked link 10 twice (recipients.human_clicks 2, and its pair's count), recipient 22
 * who never clicked, and the counters those two clicks made.
 */
export const clickedBeforeTheUpgrade = `
  INSERT INTO messages (id, subject, html, channel, compiled, created_at, sent_at)
    VALUES (1, 'Sent', 'x', 'email', '{"links":[],"html":["x"],"text":null}', 100, 200);
  INSERT INTO links (id, message_id, position, part, url, text, tracked)
    VALUES (10, 1, 0, 'html', 'https://x.test/a', 'a', 1), (11, 1, 1, 'html', 'https://x.test/b', 'b', 1);
  INSERT INTO people (id, email, created_at) VALUES (1, 'a@shop.test', 1), (2, 'b@shop.test', 1);
  INSERT INTO recipients (id, message_id, person_id, email, added_at, status, sent_at, human_clicks)
    VALUES (21, 1, 1, 'a@shop.test', 110, 'sent', 200, 2), (22, 1, 2, 'b@shop.test', 110, 'sent', 200, 0);
  INSERT INTO clicks (link_id, recipient_id, message_id, at) VALUES (10, 21, 1, 1000), (10, 21, 1, 2000);
  INSERT INTO recipient_link_counts (recipient_id, link_id, message_id, human, first_at, last_at) VALUES (21, 10, 1, 2, 1000, 2000);
  INSERT INTO link_counts (link_id, total, uniq) VALUES (10, 2, 1);
  INSERT INTO message_counts (message_id, clicks_total, clicks_unique) VALUES (1, 2, 1);
  INSERT INTO click_hours (message_id, hour, human) VALUES (1, 0, 2);
`;

const click = (recipientId: number, linkId: number, at: number): TrackingWrite => ({
  kind: 'click',
  linkId,
  recipientId,
  messageId: 1,
  at,
  botReason: null,
  ip: null,
  userAgent: 'ua',
});

/** Clicks after the upgrade, and a take-back of all of 21's: who clicked before is counted as having clicked. */
export async function expectClicksCountedAcrossTheUpgrade(store: Store): Promise<void> {
  const clicks = async () => (await store.messageStats(1)).clicks;
  const links = async () => (await store.messageStats(1)).links.map((l) => [l.id, l.clicks.total, l.clicks.unique]);
  expect(await clicks()).toEqual({ total: 2, unique: 1, bot: 0, suspect: 0 });

  // 21 clicked before: no unique clicker of the message again, but link 11's first. 22's first click.
  await store.commit([click(21, 11, 5_000), click(22, 10, 6_000)]);
  expect(await clicks()).toEqual({ total: 4, unique: 2, bot: 0, suspect: 0 });
  expect(await links()).toEqual([
    [10, 3, 2],
    [11, 1, 1],
  ]);

  // Every human click of 21, the two from before the upgrade among them, taken back: one unique clicker less.
  await store.commit([{ kind: 'reclassify', recipientId: 21, from: 0, to: 10_000, reason: 'burst' }]);
  expect(await clicks()).toEqual({ total: 1, unique: 1, bot: 3, suspect: 0 });
  expect(await links()).toEqual([
    [10, 1, 1],
    [11, 0, 0],
  ]);

  // And 21 clicks again: a unique clicker once more, as one whose clicks were all a machine's.
  await store.commit([click(21, 10, 7_000)]);
  expect(await clicks()).toEqual({ total: 2, unique: 2, bot: 3, suspect: 0 });
}
