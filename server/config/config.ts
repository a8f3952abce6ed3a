import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ClaimRelease } from '../store/store.ts';
import { journalDir } from '../tracking/journal.ts';

/** Where the store lives: the embedded SQLite file, or a PostgreSQL server shared by every node. */
export type DatabaseConfig = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export interface Config {
  port: number;
  database: DatabaseConfig;
  /** The SQLite file (and, without CLICKTRAIL_DATA_DIR, the folder beside it is the data folder). */
  dbPath: string;
  /** This node's own folder: its click journal, its node id, generated secrets. */
  dataDir: string;
  /** This node's click journal: `<data dir>/clicks`, or `<database>-clicks` beside the SQLite file by default. */
  journalDir: string;
  /** This node's name in the shared database (its journal position): made once, kept in the data folder. */
  nodeId: string;
  /** Server processes on this machine (CLICKTRAIL_WORKERS; `auto`: one per core). */
  workers: number;
  /** Which of them this is, from 1; worker 1 is the node a single process is, the others have `worker-N/` in the data folder. */
  workerIndex: number;
  /**
   * The claims of a send a crash cut short that this process gives back as it starts. Its own
   * node's always: their sender was this node's previous run, and is gone. Worker 1 (a single
   * process is one) also those of the machine's workers that no longer run (`worker-N/` folders
   * beyond CLICKTRAIL_WORKERS, left by a run with more), and the unnamed claims of a release
   * before claims named their node; every other worker gives back its own as it starts, before
   * it can claim anything. Never another node's: it may be sending right now.
   */
  releasesClaimsOf: ClaimRelease;
  adminToken: string;
  /** Signing secrets, newest first: the first signs, all verify (rotation). */
  secrets: string[];
  publicUrl: string;
  cookieDomain: string | null;
  smtpUrl: string | null;
  outbox: string;
  from: string;
  /** Peers whose X-Forwarded-For is believed (exact addresses). */
  trustedProxies: string[];
}

type Env = Record<string, string | undefined>;

/** A node's id: the start of the secret its folder keeps (`node-id`). */
const nodeIdOf = (secret: string) => secret.slice(0, 12);

/** The node ids of the workers a run with more of them left in the data folder: worker-N/ for N > workers. */
function retiredWorkers(dataDir: string, workers: number): string[] {
  return readdirSync(dataDir).flatMap((name) => {
    const index = /^worker-(\d+)$/.exec(name)?.[1];
    if (index === undefined || Number(index) <= workers) return [];
    try {
      return [nodeIdOf(readFileSync(join(dataDir, name, 'node-id'), 'utf8').trim())];
    } catch {
      return []; // never started far enough to have a node id: it claimed nothing
    }
  });
}

/** A secret kept in the data folder: made once, readable by the owner only, reused on restart. */
function storedSecret(dataDir: string, file: string): string {
  const path = join(dataDir, file);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const value = randomBytes(32).toString('base64url');
  try {
    writeFileSync(path, value + '\n', { mode: 0o600, flag: 'wx' });
    return value;
  } catch (err) {
    // Another process made it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(path, 'utf8').trim();
    throw err;
  }
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

export function loadConfig(env: Env = process.env): Config {
  const port = Number(env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  const dbPath = resolve(env.CLICKTRAIL_DB ?? './data/clicktrail.db');
  const dataDir = resolve(env.CLICKTRAIL_DATA_DIR ?? dirname(dbPath));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!env.CLICKTRAIL_DATA_DIR) mkdirSync(dirname(dbPath), { recursive: true, mode: 0o700 });
  const databaseUrl = env.CLICKTRAIL_DATABASE_URL || null;
  const workers = env.CLICKTRAIL_WORKERS === 'auto' ? availableParallelism() : Number(env.CLICKTRAIL_WORKERS ?? 1);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new Error(`CLICKTRAIL_WORKERS must be a number of processes or "auto", got "${env.CLICKTRAIL_WORKERS}"`);
  const workerIndex = Number(env.CLICKTRAIL_WORKER_INDEX ?? 1);
  // Each process beyond the first is a node of its own: its own journal and node id, the same secrets.
  const nodeDir = workerIndex > 1 ? join(dataDir, `worker-${workerIndex}`) : dataDir;
  mkdirSync(nodeDir, { recursive: true, mode: 0o700 });
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new Error('CLICKTRAIL_DATABASE_URL must be a postgres:// URL');

  const publicUrl = (env.CLICKTRAIL_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
  const parsed = new URL(publicUrl);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('CLICKTRAIL_PUBLIC_URL must be http(s)');

  const secrets = env.CLICKTRAIL_SECRET ? list(env.CLICKTRAIL_SECRET) : [storedSecret(dataDir, 'secret')];
  const nodeId = nodeIdOf(storedSecret(nodeDir, 'node-id'));
  return {
    port,
    database: databaseUrl ? { kind: 'postgres', url: databaseUrl } : { kind: 'sqlite', path: dbPath },
    dbPath,
    dataDir,
    // Where earlier releases kept it, unless this node has a data folder of its own.
    journalDir: workerIndex > 1 || env.CLICKTRAIL_DATA_DIR || databaseUrl ? join(nodeDir, 'clicks') : journalDir(dbPath),
    nodeId,
    workers,
    workerIndex,
    releasesClaimsOf: workerIndex === 1 ? { nodes: [nodeId, ...retiredWorkers(dataDir, workers)], unnamed: true } : { nodes: [nodeId], unnamed: false },
    adminToken: env.CLICKTRAIL_ADMIN_TOKEN || storedSecret(dataDir, 'admin-token'),
    secrets,
    publicUrl,
    cookieDomain: env.CLICKTRAIL_COOKIE_DOMAIN || null,
    smtpUrl: env.CLICKTRAIL_SMTP_URL || null,
    outbox: resolve(env.CLICKTRAIL_OUTBOX ?? join(dataDir, 'outbox')),
    from: env.CLICKTRAIL_FROM || 'Clicktrail <clicktrail@localhost>',
    trustedProxies: list(env.CLICKTRAIL_TRUSTED_PROXIES),
  };
}
