import { openDB, type DBSchema } from 'idb';
import type { MessageStats, MessageSummary, PersonStats } from '../../api/types.ts';

/**
 * The last numbers seen, so the popup and message view open at once (and offline) and
 * refresh behind. Keyed by message id; cleared when the server changes.
 */

interface Cached<T> {
  value: T;
  savedAt: number;
}

interface StatsDb extends DBSchema {
  lists: { key: string; value: Cached<MessageSummary[]> };
  stats: { key: number; value: Cached<MessageStats> };
  people: { key: number; value: Cached<PersonStats[]> };
}

const db = () =>
  openDB<StatsDb>('clicktrail-stats', 1, {
    upgrade(d) {
      d.createObjectStore('lists');
      d.createObjectStore('stats');
      d.createObjectStore('people');
    },
  });

const RECENT = 'recent';

export const statsCache = {
  async recentMessages() {
    return (await db()).get('lists', RECENT);
  },
  async putRecentMessages(list: MessageSummary[]) {
    await (await db()).put('lists', { value: list, savedAt: Date.now() }, RECENT);
  },
  async stats(id: number) {
    return (await db()).get('stats', id);
  },
  async putStats(id: number, stats: MessageStats) {
    await (await db()).put('stats', { value: stats, savedAt: Date.now() }, id);
  },
  async people(id: number) {
    return (await db()).get('people', id);
  },
  async putPeople(id: number, people: PersonStats[]) {
    await (await db()).put('people', { value: people, savedAt: Date.now() }, id);
  },
  async clear() {
    const d = await db();
    await Promise.all([d.clear('lists'), d.clear('stats'), d.clear('people')]);
  },
};
