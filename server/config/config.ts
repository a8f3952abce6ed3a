import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface Config {
  port: number;
  dbPath: string;
  dataDir: string;
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
  const dataDir = dirname(dbPath);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  const publicUrl = (env.CLICKTRAIL_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
  const parsed = new URL(publicUrl);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('CLICKTRAIL_PUBLIC_URL must be http(s)');

  const secrets = env.CLICKTRAIL_SECRET ? list(env.CLICKTRAIL_SECRET) : [storedSecret(dataDir, 'secret')];
  return {
    port,
    dbPath,
    dataDir,
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
