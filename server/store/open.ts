import type { DatabaseConfig } from '../config/config.ts';
import { SqliteStore } from './sqlite/store.ts';
import type { Store } from './store.ts';

/**
 * The store a configuration names. busyTimeoutMs: how long a write may wait for another
 * connection's (SQLite); 0 where waiting would hold the redirect back.
 */
export function openStore(database: DatabaseConfig, opts: { busyTimeoutMs?: number } = {}): Store {
  if (database.kind === 'sqlite') return new SqliteStore(database.path, opts);
  throw new Error('PostgreSQL is not built into this release yet');
}
