import Database from 'better-sqlite3';
import pg from 'pg';
import { numberTypes } from '../../server/store/postgres/database.ts';
import { PgStore } from '../../server/store/postgres/store.ts';
import type { Store } from '../../server/store/store.ts';
import { SqliteStore } from '../../server/store/sqlite/store.ts';
import { withTestStore } from './postgres.ts';

/** A test server (its routes' store) or a store. */
type Target = { ctx: { store: Store; tracking: { settle(): Promise<void> } } } | Store;

/** `?` parameters as PostgreSQL numbers them ($1, $2, …), outside quoted text. */
export function numbered(text: string): string {
  let n = 0;
  return text.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\?/g, (m) => (m === '?' ? `$${++n}` : m));
}

/**
 * Any SQL on the database under test, written once for both stores with `?` parameters: the
 * rows it returns (none for a statement that returns none). For tests that read or adjust
 * rows the API does not show; whatever the store, numbers are numbers. On a test server it
 * reads after the click writer has caught up, as the stats do.
 */
export async function sql<R = Record<string, unknown>>(target: Target, text: string, ...params: unknown[]): Promise<R[]> {
  // As the stats do: first every hit answered so far (on SQLite the inline writer is there
  // already by the time the answer is out; a PostgreSQL commit may still be on its way).
  if ('ctx' in target) await target.ctx.tracking.settle();
  const store = 'ctx' in target ? target.ctx.store : target;
  if (store instanceof PgStore) return store.query<R>(numbered(text), params);
  if (store instanceof SqliteStore) {
    const statement = store.db.prepare(text);
    if (statement.reader) return statement.all(...params) as R[];
    statement.run(...params);
    return [];
  }
  throw new Error('sql(): a store of neither kind');
}

/** The first row, or undefined. */
export async function sqlRow<R = Record<string, unknown>>(target: Target, text: string, ...params: unknown[]): Promise<R | undefined> {
  return (await sql<R>(target, text, ...params))[0];
}

/** The first column of the first row, or undefined. */
export async function sqlValue<T = unknown>(target: Target, text: string, ...params: unknown[]): Promise<T | undefined> {
  const row = await sqlRow(target, text, ...params);
  return row === undefined ? undefined : (Object.values(row)[0] as T);
}

/**
 * sql() on the database a server's environment names (its SQLite file, or on PostgreSQL the
 * test database standing for it), from outside the server: for a child server's data.
 */
export async function sqlAt<R = Record<string, unknown>>(env: Record<string, string>, text: string, ...params: unknown[]): Promise<R[]> {
  const e = withTestStore(env);
  if (e.CLICKTRAIL_DATABASE_URL) {
    const client = new pg.Client({ connectionString: e.CLICKTRAIL_DATABASE_URL, types: numberTypes });
    await client.connect();
    try {
      return (await client.query(numbered(text), params)).rows as R[];
    } finally {
      await client.end();
    }
  }
  const db = new Database(e.CLICKTRAIL_DB!, { readonly: true });
  try {
    return db.prepare(text).all(...params) as R[];
  } finally {
    db.close();
  }
}

