import Database from 'better-sqlite3';
import { migrations } from './migrations.ts';

/** The SQLite file, in WAL mode, migrated to this release's schema. */
export function openDatabase(path: string, upTo = migrations.length): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL'); // with WAL: durable at each checkpoint, no fsync per commit
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, upTo);
  return db;
}

function migrate(db: Database.Database, upTo: number): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(`database schema v${current} is newer than this release knows (v${migrations.length})`);
  }
  for (let v = current; v < upTo; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** Every statement of a group, prepared once on this connection, under the same names. */
export function prepare<T extends Record<string, string>>(db: Database.Database, sql: T): { [K in keyof T]: Database.Statement } {
  return Object.fromEntries(Object.entries(sql).map(([name, text]) => [name, db.prepare(text)])) as { [K in keyof T]: Database.Statement };
}
