import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { inject } from 'vitest';
import type { TestProject } from 'vitest/node';

/**
 * A PostgreSQL server of the tests' own: a cluster made with initdb in a temporary folder,
 * run as the `postgres` user when the tests run as root (PostgreSQL refuses root), on a free
 * port of its own and a socket in that folder, stopped and removed when the run ends. The
 * `postgres` vitest project starts it (globalSetup, below) and sets CLICKTRAIL_TEST_STORE=postgres:
 * then every test server gets a database of its own on it (testServer, startChildServer).
 */

export interface PostgresCluster {
  /** The folder of the cluster, and of its socket. */
  dir: string;
  port: number;
  /** PostgreSQL's programs (initdb, pg_ctl, psql). */
  bin: string;
  /** A database migrated once, that each test database is copied from (CREATE DATABASE … TEMPLATE). */
  template: string;
  /** SQL that brings a used test database back to what a copy of the template holds. */
  reset: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: PostgresCluster;
  }
}

/** Which store the tests' servers use: CLICKTRAIL_TEST_STORE=postgres, or SQLite files. */
export const testStore: 'sqlite' | 'postgres' = process.env.CLICKTRAIL_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

/** PG_BIN, or the newest of Debian's /usr/lib/postgresql/<version>/bin. */
export function postgresBin(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('PostgreSQL is not installed (apt-get install postgresql), or set PG_BIN to the folder of its initdb');
  return join(root, newest, 'bin');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const asRoot = userInfo().uid === 0;

/** A PostgreSQL program, as the postgres user when we are root. */
function pgRun(bin: string, program: string, args: string[]): string {
  const command = asRoot ? ['runuser', '-u', 'postgres', '--', join(bin, program), ...args] : [join(bin, program), ...args];
  return execFileSync(command[0]!, command.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Clusters of earlier runs that were killed before they could stop theirs (their owner is gone). */
function removeOrphans(bin: string): void {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith('clicktrail-pg-')) continue;
    const dir = join(tmpdir(), entry);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, 'owner'), 'utf8'));
    } catch {
      continue; // being made right now, or not ours
    }
    try {
      process.kill(owner, 0);
      continue; // its run goes on
    } catch {
      // gone
    }
    try {
      pgRun(bin, 'pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    } catch {
      // not running
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Makes and starts a cluster; stop() stops it and removes its folder. `durable`: with fsync
 * and synchronous commit, as a real deployment runs (the benchmark's), not the tests' throwaway settings.
 */
export async function startCluster({ durable = false }: { durable?: boolean } = {}): Promise<{ cluster: PostgresCluster; stop(): void }> {
  const bin = postgresBin();
  removeOrphans(bin);
  const dir = mkdtempSync(join(tmpdir(), 'clicktrail-pg-'));
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()));
  const data = join(dir, 'data');
  const log = join(dir, 'log');
  pgRun(bin, 'initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c max_connections=400',
    // Throwaway data: no fsync, no waiting for the WAL on commit.
    ...(durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
  ].join(' ');
  try {
    pgRun(bin, 'pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', '-t', '60', 'start']);
  } catch (err) {
    const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${text}`);
  }
  writeFileSync(join(dir, 'owner'), String(process.pid));
  const cluster: PostgresCluster = { dir, port, bin, template: 'clicktrail_template', reset: '' };
  return {
    cluster,
    stop() {
      try {
        pgRun(bin, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** psql on a database of the cluster (its maintenance database by default), SQL on its standard input. */
export function psql(cluster: PostgresCluster, sql: string, database = 'postgres'): void {
  execFileSync(join(cluster.bin, 'psql'), ['-h', cluster.dir, '-p', String(cluster.port), '-U', 'postgres', '-d', database, '-X', '-q', '-v', 'ON_ERROR_STOP=1'], {
    input: sql,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
}

export function databaseUrl(cluster: PostgresCluster, name: string): string {
  return `postgres://postgres@127.0.0.1:${cluster.port}/${name}`;
}

/** vitest globalSetup of the `postgres` project: the cluster, and the template database every test database is copied from. */
export default async function setup(project: TestProject): Promise<() => void> {
  const { cluster, stop } = await startCluster();
  try {
    psql(cluster, `CREATE DATABASE ${cluster.template};`);
    // The server's own migrations make the template: each test database starts at this release's schema.
    const { PgStore } = await import('../../server/store/postgres/store.ts');
    const store = new PgStore(databaseUrl(cluster, cluster.template));
    const tables = await store.query<{ name: string }>(
      `SELECT format('%I', tablename) AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_version' ORDER BY 1`,
    );
    const settings = await store.query<{ data: string }>('SELECT data FROM settings WHERE id = 1');
    await store.close();
    // What a copy of the template holds: its tables empty and their ids from 1, its settings row.
    cluster.reset = [
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid();',
      `TRUNCATE ${tables.map((t) => t.name).join(', ')} RESTART IDENTITY;`,
      `INSERT INTO settings (id, data) VALUES (1, '${settings[0]!.data.replace(/'/g, "''")}');`,
    ].join('\n');
  } catch (err) {
    stop();
    throw err;
  }
  project.provide('postgres', cluster);
  return stop;
}

/** This worker's test databases, by the SQLite path they stand for. */
const made = new Map<string, string>();
/** Databases whose folder is gone: emptied again when a test asks for one (copying the template takes 10 times as long). */
const free: string[] = [];
let count = 0;

/**
 * The database that stands for a SQLite file on the shared test cluster, a fresh one the
 * first time a test names that file: a server reopened on the same folder, a child server
 * started on it, or a second node given the same file all find the same data. Fresh is a
 * copy of the template, or one whose folder was removed, emptied (releaseTestDatabases).
 */
export function testDatabaseFor(sqlitePath: string, c: PostgresCluster): string {
  const path = resolve(sqlitePath);
  let name = made.get(path);
  if (!name) {
    name = free.pop();
    try {
      if (name) psql(c, c.reset, name);
    } catch {
      name = undefined; // left refusing connections by a test that failed: a new one then
    }
    if (!name) {
      name = `ct_${process.pid}_${++count}`;
      psql(c, `CREATE DATABASE ${name} TEMPLATE ${c.template};`);
    }
    made.set(path, name);
  }
  return databaseUrl(c, name);
}

let injected: PostgresCluster | undefined;
/** The cluster the postgres project started (vitest's inject, once per worker). */
export function testCluster(): PostgresCluster {
  injected ??= inject('postgres');
  if (!injected) throw new Error('no PostgreSQL test cluster: run the tests of the postgres project (vitest --project postgres)');
  return injected;
}

/**
 * A server's environment for the store under test: unchanged on SQLite; on PostgreSQL,
 * CLICKTRAIL_DATABASE_URL of the database standing for its SQLite file (the data folder
 * stays where it was: journal, node id and secrets).
 */
export function withTestStore(env: Record<string, string>, defaultDb?: string): Record<string, string> {
  const db = env.CLICKTRAIL_DB ?? defaultDb;
  if (testStore !== 'postgres' || env.CLICKTRAIL_DATABASE_URL || db === undefined) return env;
  return { CLICKTRAIL_DB: db, ...env, CLICKTRAIL_DATABASE_URL: testDatabaseFor(db, testCluster()) };
}

/** The test databases of SQLite paths inside dir go with it: free for the next test (the cluster goes at the end of the run). */
export function releaseTestDatabases(dir: string): void {
  if (testStore !== 'postgres' || made.size === 0) return;
  const root = resolve(dir) + sep;
  for (const [path, name] of made) {
    if (!path.startsWith(root)) continue;
    made.delete(path);
    free.push(name);
  }
}

/** A database with nothing in it, not even this release's schema. */
export function emptyDatabase(c: PostgresCluster): string {
  const name = `ct_${process.pid}_empty_${++count}`;
  psql(c, `CREATE DATABASE ${name} TEMPLATE template0;`);
  return databaseUrl(c, name);
}

/**
 * Makes the database of a URL refuse connections, and ends the ones it has (what a server
 * that is down or unreachable looks like to a store), or takes them again.
 */
export function setAvailable(c: PostgresCluster, url: string, available: boolean): void {
  const name = new URL(url).pathname.slice(1);
  psql(
    c,
    available
      ? `ALTER DATABASE ${name} ALLOW_CONNECTIONS true;`
      : `ALTER DATABASE ${name} ALLOW_CONNECTIONS false;
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}';`,
  );
}
