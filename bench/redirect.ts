import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../server/config/config.ts';
import { buildContext } from '../server/server.ts';
import { SqliteStore } from '../server/store/sqlite/store.ts';
import type { TrackingWrite } from '../server/store/store.ts';
import type { Health } from '../api/types.ts';
import { clickToken, identityCookie } from '../server/tokens/tokens.ts';
import { startChildServer, type ChildServer } from '../test/support/child-server.ts';
import { cpuSample, perRequest, threadsOf } from './cpu.ts';
import { cores, requireWrk, wrk, type Cores, type WrkResult } from './wrk.ts';
import { messageWithLinks } from '../test/support/store-message.ts';

const RECIPIENTS = 20_000;
const SECONDS = 4;
const ROUNDS = 5;
const FULL_CLICKS = 2_000_000;
const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';
const HEADERS = { 'user-agent': UA, accept: 'text/html', 'accept-language': 'en-GB,en;q=0.9' };
const ENV = { CLICKTRAIL_ADMIN_TOKEN: 'bench', CLICKTRAIL_SECRET: 'bench-secret', CLICKTRAIL_PUBLIC_URL: 'http://127.0.0.1' };

/** A sent message with two links (two, so no recipient's clicks look like a scanner's burst) and its click paths. */
export async function prepare(dir: string): Promise<{ paths: string[]; cookie: string }> {
  const ctx = buildContext(loadConfig({ ...ENV, CLICKTRAIL_DB: join(dir, 'ct.db') }), 'inline');
  const m = await messageWithLinks(ctx.store, [0, 1].map((i) => `https://www.shop.test/p${i}?src=mail`), 'Bench');
  await ctx.store.addRecipients(m.id, Array.from({ length: RECIPIENTS }, (_, i) => ({ email: `p${i}@shop.test`, name: `Person ${i}` })));
  const db = (ctx.store as unknown as SqliteStore).db;
  db.prepare('UPDATE recipients SET status = ?, sent_at = ?').run('sent', Date.now() - 3_600_000);
  const ids = (db.prepare('SELECT id FROM recipients ORDER BY id').all() as { id: number }[]).map((r) => r.id);
  const paths = m.links.flatMap((l) => ids.map((r) => `/c/${clickToken.sign(ctx.keys, r, l.id)}`));
  // The bare server answers with a cookie of the same length as ours.
  const cookie = `clicktrail_id=${identityCookie.value(paths[0]!.slice('/c/'.length), Date.now())}; Max-Age=2592000; Path=/; SameSite=Lax`;
  await ctx.messenger.close();
  await ctx.tracking.close();
  await ctx.store.close();
  return { paths, cookie };
}

/** Clicks written straight into the store, as the journal's ingester writes them, to make a database that has served for a while. */
async function fill(file: string, clicks: number): Promise<number> {
  const store = new SqliteStore(file, { busyTimeoutMs: 0 });
  const link = (await store.getLink(1))!;
  const t0 = performance.now();
  const at = Date.now() - 86_400_000;
  for (let written = 0; written < clicks; written += 5000) {
    const batch: TrackingWrite[] = Array.from({ length: 5000 }, (_, i) => ({
      kind: 'click',
      linkId: link.id + ((written + i) % 2),
      recipientId: 1 + ((written + i) % RECIPIENTS),
      messageId: link.messageId,
      at: at + written + i,
      botReason: null,
      ip: '127.0.0.0/24',
      userAgent: UA,
    }));
    await store.commit(batch);
  }
  await store.close();
  return clicks / ((performance.now() - t0) / 1000);
}

interface Server {
  name: string;
  pid: number;
  port: number;
  /** Resolves once every click answered so far is in the database (ours; the bare server records nothing). */
  settled?(): Promise<void>;
  stop(): Promise<void>;
}

/** Until /api/health says no click waits for the database: the writer's work for a round is then all done, and in its CPU. */
async function clicksWritten(port: number): Promise<void> {
  for (const until = Date.now() + 30_000; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
    const res = await fetch(`http://127.0.0.1:${port}/api/health`, { headers: { authorization: `Bearer ${ENV.CLICKTRAIL_ADMIN_TOKEN}` } });
    if (!res.ok) throw new Error(`GET /api/health: ${res.status}`);
    const health = (await res.json()) as Health;
    if (health.clicks.queued === 0) return;
  }
  throw new Error('the click writer did not catch up within 30 s');
}

/** Every thread of the process onto these cores (the writer thread started before we could pin the process). */
function pin(pid: number, list: string | null): void {
  if (list === null) return;
  for (const tid of threadsOf(pid)) execFileSync('taskset', ['-cp', list, String(tid)], { stdio: 'ignore' });
}

async function startBare(cookie: string, c: Cores): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'bare-redirect-server.ts')], {
    env: { ...process.env, COOKIE: cookie, LOCATION: 'https://www.shop.test/p0?src=mail' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) =>
    child.stdout!.on('data', (d: Buffer) => {
      const m = /listening on port (\d+)/.exec(String(d));
      if (m) resolve(Number(m[1]));
    }),
  );
  pin(child.pid!, c.servers);
  return { name: 'bare node:http', pid: child.pid!, port, stop: async () => void child.kill('SIGTERM') };
}

async function startOurs(name: string, file: string, c: Cores, env: Record<string, string> = {}): Promise<Server & { child: ChildServer }> {
  const child = await startChildServer({ ...ENV, CLICKTRAIL_DB: file, ...env });
  pin(child.child.pid!, c.servers);
  return {
    name,
    child,
    pid: child.child.pid!,
    port: child.port,
    settled: () => clicksWritten(child.port),
    stop: async () => {
      child.child.kill('SIGTERM');
      await child.exited;
    },
  };
}

interface Round extends WrkResult {
  eventLoopUs: number | null;
  processUs: number | null;
}

async function round(server: Server, dir: string, pathsFile: string, connections: number, c: Cores, seconds = SECONDS): Promise<Round> {
  const before = cpuSample(server.pid);
  const result = await wrk({ port: server.port, connections, seconds, pathsFile, headers: HEADERS, cores: c, dir });
  await server.settled?.();
  const cpu = perRequest(before, cpuSample(server.pid), result.requests);
  return { ...result, eventLoopUs: cpu?.eventLoopUs ?? null, processUs: cpu?.processUs ?? null };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const medianOf = (rounds: Round[], f: (r: Round) => number | null) => {
  const xs = rounds.map(f).filter((x): x is number => x !== null);
  return xs.length ? median(xs) : null;
};
const fmt = (n: number | null, digits = 0) => (n === null ? 'n/a' : n.toFixed(digits));

/** A server and the file of paths it is sent. */
interface Load {
  server: Server;
  paths: string;
}

/**
 * `a` and `b` in alternating rounds, so a busy moment of the machine falls on both alike; each
 * of b's rounds is compared with a's round just before it, and the ratios' median is the figure.
 */
async function alternate(a: Load, b: Load, dir: string, connections: number, c: Cores, rounds = ROUNDS) {
  const ra: Round[] = [];
  const rb: Round[] = [];
  for (let i = 0; i < rounds; i++) {
    ra.push(await round(a.server, dir, a.paths, connections, c));
    rb.push(await round(b.server, dir, b.paths, connections, c));
  }
  const ratio = (f: (r: Round) => number | null) => {
    const xs = rb.map((r, i) => {
      const x = f(r);
      const y = f(ra[i]!);
      return x === null || y === null || y === 0 ? null : x / y;
    });
    const ok = xs.filter((x): x is number => x !== null);
    return ok.length ? median(ok) : null;
  };
  return {
    a: ra,
    b: rb,
    rps: ratio((r) => r.rps),
    p99: ratio((r) => r.p99),
    eventLoop: ratio((r) => r.eventLoopUs),
    process: ratio((r) => r.processUs),
  };
}

function printRounds(label: string, runs: Round[]): void {
  console.log(
    `    ${label.padEnd(16)} ${runs.map((r) => `${Math.round(r.rps)}/s p99 ${r.p99.toFixed(2)}ms ${fmt(r.eventLoopUs)}|${fmt(r.processUs)}µs`).join('  ')}`,
  );
}

function printMedians(label: string, runs: Round[]): void {
  const errors = runs.reduce((n, r) => n + r.errors, 0);
  console.log(
    `  ${label.padEnd(18)} ${fmt(medianOf(runs, (r) => r.rps)).padStart(6)} req/s  p50 ${fmt(medianOf(runs, (r) => r.p50), 2)} ms  p99 ${fmt(medianOf(runs, (r) => r.p99), 2)} ms  CPU/request ${fmt(medianOf(runs, (r) => r.eventLoopUs))} µs event loop, ${fmt(medianOf(runs, (r) => r.processUs))} µs process${errors ? `  (${errors} failed)` : ''}`,
  );
}

const goal = (value: number | null, op: '≤' | '≥', target: number) =>
  value === null ? 'n/a' : `${value.toFixed(2)} (goal ${op} ${target}: ${(op === '≤' ? value <= target : value >= target) ? 'met' : 'not met'})`;

export async function run(): Promise<void> {
  requireWrk();
  const c = cores();
  const dir = mkdtempSync(join(tmpdir(), 'clicktrail-bench-'));
  const servers: Server[] = [];
  try {
    const { paths, cookie } = await prepare(dir);
    const distinct = join(dir, 'paths.txt');
    writeFileSync(distinct, paths.join('\n') + '\n');
    const hammered = join(dir, 'one-path.txt');
    writeFileSync(hammered, `${paths[0]}\n`);
    copyFileSync(join(dir, 'ct.db'), join(dir, 'fresh.db'));
    copyFileSync(join(dir, 'ct.db'), join(dir, 'full.db'));
    const fillRate = await fill(join(dir, 'full.db'), FULL_CLICKS);

    const bare = await startBare(cookie, c);
    servers.push(bare);
    const ours = await startOurs('clicktrail', join(dir, 'ct.db'), c);
    servers.push(ours);
    for (const s of [bare, ours]) await round(s, dir, distinct, 32, c, 2); // warm-up: JIT, caches

    console.log(
      `redirect /c/:token: wrk (1 thread) ${c.load === null ? 'unpinned (one core)' : `on core ${c.load}, servers on core ${c.servers}`}; ${paths.length} distinct tokens; rounds of ${SECONDS} s alternating with the bare server; durable recording on, and each of our rounds ends when its clicks are in the database, so its CPU holds the writer's work for them`,
    );
    for (const connections of [32, 4]) {
      const r = await alternate({ server: bare, paths: distinct }, { server: ours, paths: distinct }, dir, connections, c);
      console.log(`\n  ${connections} connections, medians of ${ROUNDS} rounds:`);
      printMedians('bare node:http 302', r.a);
      printMedians('clicktrail', r.b);
      console.log('  each round (req/s, p99, CPU µs/request event loop|process):');
      printRounds('bare', r.a);
      printRounds('clicktrail', r.b);
      console.log('  ratios to bare (median of each round against the bare round before it):');
      if (connections === 32) {
        console.log(`    throughput           ${goal(r.rps, '≥', 0.75)}`);
        console.log(`    event-loop CPU/click ${goal(r.eventLoop, '≤', 1.33)}`);
        console.log(`    process CPU/click    ${goal(r.process, '≤', 1.6)}`);
      }
      console.log(`    p99                  ${goal(r.p99, '≤', 2)}`);
    }

    // One token from every connection: the repeat rule keeps its per-recipient work bounded.
    const one = await alternate({ server: ours, paths: distinct }, { server: ours, paths: hammered }, dir, 32, c, 3);
    console.log(`\n  one token from all 32 connections, against distinct tokens, same server:`);
    printMedians('distinct tokens', one.a);
    printMedians('one token', one.b);
    console.log(`    throughput ratio ${goal(one.rps, '≥', 0.9)}`);

    // A database that has served 2 million clicks, beside a fresh one.
    await ours.stop();
    servers.splice(servers.indexOf(ours), 1);
    const fresh = await startOurs('fresh', join(dir, 'fresh.db'), c);
    servers.push(fresh);
    const full = await startOurs('2M clicks', join(dir, 'full.db'), c);
    servers.push(full);
    for (const s of [fresh, full]) await round(s, dir, distinct, 32, c, 2);
    const aged = await alternate({ server: fresh, paths: distinct }, { server: full, paths: distinct }, dir, 32, c, 3);
    console.log(`\n  after ${FULL_CLICKS.toLocaleString('en')} clicks in the database (filled at ${Math.round(fillRate)} clicks/s), against a fresh one, 32 connections:`);
    printMedians('fresh', aged.a);
    printMedians('2M clicks', aged.b);
    console.log(`    event-loop CPU/click ratio ${goal(aged.eventLoop, '≤', 1.1)}   process ${fmt(aged.process, 2)}`);

    // Every core: nothing pinned, so the processes and wrk share the machine as a deployment would.
    await fresh.stop();
    await full.stop();
    servers.length = 0;
    servers.push(bare);
    const free: Cores = { load: null, servers: null };
    const one1 = await startOurs('1 process', join(dir, 'fresh.db'), free);
    servers.push(one1);
    await round(one1, dir, distinct, 32, free, 2);
    const single: Round[] = [];
    for (let i = 0; i < 3; i++) single.push(await round(one1, dir, distinct, 32, free));
    await one1.stop();
    servers.pop();
    const two = await startOurs('2 workers', join(dir, 'fresh.db'), free, { CLICKTRAIL_WORKERS: '2' });
    servers.push(two);
    await round(two, dir, distinct, 32, free, 2);
    const pair: Round[] = [];
    for (let i = 0; i < 3; i++) pair.push(await round(two, dir, distinct, 32, free));
    const r1 = medianOf(single, (r) => r.rps)!;
    const r2 = medianOf(pair, (r) => r.rps)!;
    console.log(`\n  CLICKTRAIL_WORKERS on this machine's ${availableParallelism()} cores, nothing pinned (wrk shares them), 32 connections, medians of 3 rounds:`);
    console.log(`    1 process ${Math.round(r1)} req/s (p99 ${fmt(medianOf(single, (r) => r.p99), 2)} ms); 2 workers ${Math.round(r2)} req/s (p99 ${fmt(medianOf(pair, (r) => r.p99), 2)} ms): ${(r2 / r1).toFixed(2)}×`);
  } finally {
    for (const s of servers) await s.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}
