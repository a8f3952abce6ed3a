import type { DatabaseConfig } from '../config/config.ts';
import { PgStore } from './postgres/store.ts';
import { SqliteStore } from './sqlite/store.ts';
import type { ClaimRelease, Store } from './store.ts';

/**
 * The store a configuration names. releaseClaims: give back, at open, the claims of a send a
 * crash cut short, of the nodes no other process runs now (Config.releasesClaimsOf).
 * busyTimeoutMs: how long a write may wait for another connection's (SQLite); 0 where waiting
 * would hold the redirect back. On PostgreSQL no wait
 * blocks the event loop: there it only shortens how long the redirect's store waits for a
 * connection while the database is unreachable. Synchronous either way: a PostgreSQL store
 * migrates in the background, and its calls wait for that.
 */
export function openStore(database: DatabaseConfig, opts: { busyTimeoutMs?: number; releaseClaims?: ClaimRelease } = {}): Store {
  if (database.kind === 'sqlite') return new SqliteStore(database.path, opts);
  return new PgStore(database.url, opts);
}
