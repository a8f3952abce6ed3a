import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ConversationMessage, VisitorSession, WidgetConversation } from '../api/types.ts';
import type { PendingMessage } from './state.ts';

/** Small values kept whole, per Clicktrail server (a page could embed two). */
export interface Saved {
  session: VisitorSession;
  pending: PendingMessage[];
  currentId: number | null;
  /** Team replies not yet seen (the panel was closed, or the tab hidden, when they came): their ids. */
  unread: number[];
}

type Key = keyof Saved;

/**
 * What survives a reload or a lost network. Messages are one record each, so a new message
 * is one small write however long its thread (version 1 rewrote every conversation whole).
 */
interface Schema extends DBSchema {
  kv: { key: string; value: unknown };
  conversations: { key: number; value: { id: number; startedAt: string } };
  messages: { key: number; value: ConversationMessage; indexes: { byConversation: number } };
}

export class Persist {
  private db: Promise<IDBPDatabase<Schema> | null>;

  constructor(server: string) {
    this.db = openDB<Schema>(`clicktrail:${server}`, 2, {
      async upgrade(db, oldVersion, _newVersion, tx) {
        if (oldVersion < 1) db.createObjectStore('kv');
        if (oldVersion >= 2) return;
        db.createObjectStore('conversations', { keyPath: 'id' });
        db.createObjectStore('messages', { keyPath: 'id' }).createIndex('byConversation', 'conversationId');
        if (oldVersion === 1) {
          // Version 1 kept every conversation, messages included, under one key.
          const kv = tx.objectStore('kv');
          const old = ((await kv.get('conversations')) ?? []) as WidgetConversation[];
          for (const { messages, ...c } of old) {
            void tx.objectStore('conversations').put({ id: c.id, startedAt: c.startedAt });
            for (const m of messages) void tx.objectStore('messages').put(m);
          }
          await kv.delete('conversations');
        }
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

  /** Every conversation kept, with its messages in id order (at boot). */
  async conversations(): Promise<WidgetConversation[]> {
    const db = await this.db;
    if (!db) return [];
    const tx = db.transaction(['conversations', 'messages']);
    const [conversations, messages] = await Promise.all([tx.objectStore('conversations').getAll(), tx.objectStore('messages').getAll()]);
    const byId = new Map(conversations.map((c): [number, WidgetConversation] => [c.id, { ...c, messages: [] }]));
    for (const m of messages) byId.get(m.conversationId)?.messages.push(m);
    return [...byId.values()];
  }

  /** Keeps new conversations and messages: one record each, nothing already kept is written again. */
  async add(conversations: readonly { id: number; startedAt: string }[], messages: readonly ConversationMessage[]): Promise<void> {
    const db = await this.db;
    if (!db || (conversations.length === 0 && messages.length === 0)) return;
    const tx = db.transaction(['conversations', 'messages'], 'readwrite');
    for (const c of conversations) void tx.objectStore('conversations').put({ id: c.id, startedAt: c.startedAt });
    for (const m of messages) void tx.objectStore('messages').put(m);
    await tx.done;
  }

  /** Drops conversations this visitor may no longer see, and their messages. */
  async forget(conversationIds: readonly number[]): Promise<void> {
    const db = await this.db;
    if (!db || conversationIds.length === 0) return;
    const tx = db.transaction(['conversations', 'messages'], 'readwrite');
    const byConversation = tx.objectStore('messages').index('byConversation');
    for (const id of conversationIds) {
      void tx.objectStore('conversations').delete(id);
      for (let cursor = await byConversation.openKeyCursor(id); cursor; cursor = await cursor.continue()) {
        void tx.objectStore('messages').delete(cursor.primaryKey);
      }
    }
    await tx.done;
  }

  async clear(): Promise<void> {
    const db = await this.db;
    if (!db) return;
    const tx = db.transaction(['kv', 'conversations', 'messages'], 'readwrite');
    await Promise.all([tx.objectStore('kv').clear(), tx.objectStore('conversations').clear(), tx.objectStore('messages').clear(), tx.done]);
  }
}
