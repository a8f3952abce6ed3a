import { openDB, type IDBPDatabase } from 'idb';
import type { VisitorSession, WidgetConversation } from '../api/types.ts';
import type { PendingMessage } from './state.ts';

/** What survives a reload or a lost network, per Clicktrail server (a page could embed two). */
export interface Saved {
  session: VisitorSession;
  pending: PendingMessage[];
  conversations: WidgetConversation[];
  currentId: number | null;
}

type Key = keyof Saved;

export class Persist {
  private db: Promise<IDBPDatabase | null>;

  constructor(server: string) {
    this.db = openDB(`clicktrail:${server}`, 1, {
      upgrade(db) {
        db.createObjectStore('kv');
      },
    }).catch(() => null); // private modes without IndexedDB: the widget still works, it just forgets
  }

  async get<K extends Key>(key: K): Promise<Saved[K] | undefined> {
    const db = await this.db;
    return (await db?.get('kv', key)) as Saved[K] | undefined;
  }

  async set<K extends Key>(key: K, value: Saved[K]): Promise<void> {
    await (await this.db)?.put('kv', value, key);
  }

  async clear(): Promise<void> {
    await (await this.db)?.clear('kv');
  }
}
