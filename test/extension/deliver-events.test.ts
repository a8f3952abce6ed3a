import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { PersonRef, TeamEvent } from '../../api/types.ts';

/** The extension APIs the notifier touches, in memory: the one module tests replace. */
const fake = vi.hoisted(() => {
  const store = new Map<string, unknown>();
  return {
    store,
    created: [] as { id: string; title: string }[],
    browser: {
      storage: {
        local: {
          get: async (key: string) => (store.has(key) ? { [key]: structuredClone(store.get(key)) } : {}),
          set: async (items: Record<string, unknown>) => {
            for (const [k, v] of Object.entries(items)) store.set(k, structuredClone(v));
          },
        },
      },
      runtime: { sendMessage: async () => undefined, getURL: (p: string) => `chrome-extension://test/${p}` },
      notifications: { create: async (id: string, o: { title: string }) => void fake.created.push({ id, title: o.title }) },
    },
  };
});
vi.mock('../../extension/platform/browser.ts', () => ({ browser: fake.browser }));

const { deliverEvents } = await import('../../extension/background/team-events/deliver-events.ts');
const { describeEvent } = await import('../../extension/background/team-events/describe-event.ts');
const { shownNotifications } = await import('../../extension/background/team-events/notification-log.ts');

const ada: PersonRef = { id: 1, name: 'Ada Lovelace', email: 'ada@shop.test' };
const visit = (id: number): TeamEvent => ({
  id,
  type: 'lead.visit',
  at: '2025-01-01T10:00:00Z',
  person: ada,
  identifiedBy: 'email-click',
  url: 'https://www.shop.test/pricing',
  referrer: null,
  messageId: 3,
  messageSubject: 'Spring sale',
  linkId: 9,
  linkUrl: 'https://www.shop.test/pricing',
});
const reply = (id: number, author: 'team' | 'visitor'): TeamEvent => ({
  id,
  type: 'conversation.message',
  at: '2025-01-01T10:00:00Z',
  conversationId: 4,
  person: ada,
  message: { id: id * 10, conversationId: 4, author, body: author === 'team' ? 'Hi Ada' : 'Hello?', at: '2025-01-01T10:00:00Z' },
});

beforeEach(() => {
  fake.store.clear();
  fake.created.length = 0;
});

describe('delivering team events', () => {
  it('shows each event once when the stream and the poller both bring it, in any order', async () => {
    fake.store.set('lastEventId', 0);
    await Promise.all([deliverEvents([visit(1)]), deliverEvents([visit(2), visit(1)]), deliverEvents([visit(2)])]);
    await deliverEvents([visit(1), visit(2), visit(3)]);
    expect(fake.created.map((n) => n.id)).toEqual(['clicktrail-1', 'clicktrail-2', 'clicktrail-3']);
    expect((await shownNotifications()).map((n) => n.eventId)).toEqual([1, 2, 3]);
    expect(fake.store.get('lastEventId')).toBe(3);
  });

  it('shows nothing before a baseline is taken: a newly configured server’s history is not news', async () => {
    await deliverEvents([visit(1)]);
    expect(fake.created).toEqual([]);
  });

  it('does not tell the team about its own replies, but moves past them', async () => {
    fake.store.set('lastEventId', 0);
    await deliverEvents([reply(1, 'team'), reply(2, 'visitor')]);
    expect(fake.created.map((n) => n.title)).toEqual(['Ada Lovelace wrote']);
    expect(fake.store.get('lastEventId')).toBe(2);
  });

  it('says who, where and from which message for a lead visit', () => {
    expect(describeEvent(visit(1))).toEqual({
      title: 'Ada Lovelace is on your site',
      message: 'https://www.shop.test/pricing',
      context: 'From “Spring sale” (identified by email click)',
      conversationId: null,
      personId: 1,
    });
  });
});
