import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../server/config/config.ts';
import { buildContext } from '../server/server.ts';
import { SqliteStore } from '../server/store/sqlite/store.ts';
import type { TrackingWrite } from '../server/store/store.ts';
import { clickToken, identityToken } from '../server/tokens/tokens.ts';
import { startChildServer } from '../test/support/child-server.ts';

const RECIPIENTS = 20_000;
const DURATION_S = 4;
const ROUNDS = 5;
const CONNECTIONS = 32;
const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';
const ENV = { CLICKTRAIL_ADMIN_TOKEN: 'bench', CLICKTRAIL_SECRET: 'bench-secret', CLICKTRAIL_PUBLIC_URL: 'http://127.0.0.1' };

/** A sent message with two links (two, so no recipient's clicks look like a scanner's burst) and its click paths. */
export async function prepare(dir: string): Promise<{ paths: string[]; cookie: string }> {
  const ctx = buildContext(loadConfig({ ...ENV, CLICKTRAIL_DB: join(dir, 'ct.db') }), 'inline');
  const m = await ctx.store.createMessage({
    subject: 'Bench',
    html: 'x',
    text: null,
    channel: 'email',
    goal: null,
    audience: null,
    push: null,
    compiled: {
      links: [0, 1].map((i) => ({ position: i, url: `https://www.shop.test/p${i}?src=mail`, text: `p${i}`, tracked: true, part: 'html' as const })),
      html: ['x'],
      text: null,
    },
  });
  await ctx.store.addRecipients(m.id, Array.from({ length: RECIPIENTS }, (_, i) => ({ email: `p${i}@shop.test`, name: `Person ${i}` })));
  const db = (ctx.store as SqliteStore).db;
  db.prepare('UPDATE recipients SET status = ?, sent_at = ?').run('sent', Date.now() - 3_600_000);
  const ids = (db.prepare('SELECT id FROM recipients ORDER BY id').all() as { id: number }[]).map((r) => r.id);
  const paths = m.links.flatMap((l) => ids.map((r) => `/c/${clickToken.sign(ctx.keys, r, l.id)}`));
  const cookie = `clicktrail_id=${identityToken.sign(ctx.keys, { personId: 1, recipientId: ids[0]!, linkId: m.links[0]!.id, expiresAt: Date.now() + 30 * 86_400_000, clickAt: Date.now() })}; Max-Age=2592000; Path=/; SameSite=Lax`;
  await ctx.tracking.close();
  await ctx.store.close();
  return { paths, cookie };
}

/** CPU time (ms) a process, or only its main thread, has used so far: Linux only, else null. */
function cpuMs(pid: number, mainThreadOnly: boolean): number | null {
  try {
    const fields = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in USER_HZ (100/s)
  } catch {
    return null;
  }
}

/** The load, and the server's CPU per request during it (main thread, and whole process with the click writer). */
async function measured(pid: number, port: number, paths: string[]) {
  const before = [cpuMs(pid, true), cpuMs(pid, false)];
  const result = await load(port, paths);
  const after = [cpuMs(pid, true), cpuMs(pid, false)];
  const perRequest = (i: number) =>
    before[i] == null || after[i] == null ? null : ((after[i]! - before[i]!) * 1000) / result.requests.total;
  return { result, mainUs: perRequest(0), processUs: perRequest(1) };
}

const us = (n: number | null) => (n == null ? 'n/a' : `${n.toFixed(0)} µs`);

function load(port: number, paths: string[]): Promise<autocannon.Result> {
  let i = 0;
  return new Promise((resolve, reject) =>
    autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: CONNECTIONS,
        duration: DURATION_S,
        headers: { 'user-agent': UA },
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length]! }) }],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    ),
  );
}

async function startBare(cookie: string): Promise<{ pid: number; port: number; stop: () => void }> {
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
  return { pid: child.pid!, port, stop: () => child.kill('SIGTERM') };
}

/** How many clicks a second the store itself commits, in transactions of 500 like the journal's ingester makes under load. */
async function storeCapacity(dir: string): Promise<number> {
  const store = new SqliteStore(join(dir, 'ct.db'), { busyTimeoutMs: 0 });
  const link = (await store.getLink(1))!;
  let written = 0;
  const until = performance.now() + 3_000;
  const t0 = performance.now();
  while (performance.now() < until) {
    const batch: TrackingWrite[] = Array.from({ length: 500 }, (_, i) => ({
      kind: 'click',
      linkId: link.id,
      recipientId: 1 + ((written + i) % RECIPIENTS),
      messageId: link.messageId,
      at: Date.now(),
      botReason: null,
      ip: '127.0.0.0/24',
      userAgent: UA,
    }));
    await store.commit(batch);
    written += batch.length;
  }
  const rate = written / ((performance.now() - t0) / 1000);
  await store.close();
  return rate;
}

const ms = (n: number) => `${n.toFixed(2)} ms`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'clicktrail-bench-'));
  try {
    const { paths, cookie } = await prepare(dir);
    const bare = await startBare(cookie);
    const server = await startChildServer({ ...ENV, CLICKTRAIL_DB: join(dir, 'ct.db') });
    const health = async () =>
      ((await (await fetch(`http://127.0.0.1:${server.port}/api/health`, { headers: { authorization: 'Bearer bench' } })).json()) as {
        clicks: { queued: number; written: number; dropped: number };
      }).clicks;
    await load(bare.port, paths.slice(0, 1000)); // warm-up
    await load(server.port, paths.slice(0, 1000));

    // Rounds alternate between the two servers, so a busy moment on the machine hits both alike.
    const bareRuns: Awaited<ReturnType<typeof measured>>[] = [];
    const ourRuns: Awaited<ReturnType<typeof measured>>[] = [];
    const before = await health();
    const queueSamples: number[] = [];
    const sampler = setInterval(() => void health().then((h) => queueSamples.push(h.queued)), 1000);
    let ourSeconds = 0;
    for (let round = 0; round < ROUNDS; round++) {
      bareRuns.push(await measured(bare.pid, bare.port, paths));
      const t0 = performance.now();
      ourRuns.push(await measured(server.child.pid!, server.port, paths));
      ourSeconds += (performance.now() - t0) / 1000;
    }
    clearInterval(sampler);
    const after = await health();
    bare.stop();
    server.child.kill('SIGTERM');
    await server.exited;

    const pick = (runs: typeof bareRuns, f: (r: (typeof bareRuns)[number]) => number | null) => {
      const xs = runs.map(f).filter((x): x is number => x !== null);
      return xs.length ? median(xs) : null;
    };
    const b = { rps: pick(bareRuns, (r) => r.result.requests.average)!, p50: pick(bareRuns, (r) => r.result.latency.p50)!, p99: pick(bareRuns, (r) => r.result.latency.p99)!, us: pick(bareRuns, (r) => r.mainUs) };
    const o = { rps: pick(ourRuns, (r) => r.result.requests.average)!, p50: pick(ourRuns, (r) => r.result.latency.p50)!, p99: pick(ourRuns, (r) => r.result.latency.p99)!, us: pick(ourRuns, (r) => r.mainUs), processUs: pick(ourRuns, (r) => r.processUs) };
    const failed = ourRuns.reduce((n, r) => n + r.result.non2xx - r.result['3xx'], 0);

    // This machine's speed drifts by more than the effect measured: each of our rounds is compared
    // with the bare round just before it, and the ratios' median is the result.
    const pairs = (f: (r: (typeof bareRuns)[number]) => number) => ourRuns.map((r, i) => f(r) / f(bareRuns[i]!));
    const throughputRatio = median(pairs((r) => r.result.requests.average));
    const p99Ratio = median(pairs((r) => r.result.latency.p99));
    console.log(`redirect /c/:token, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION_S} s alternating with the bare server, ${RECIPIENTS * 2} distinct tokens, durable recording on; medians`);
    console.log(`  bare node:http 302:  ${Math.round(b.rps)} req/s  p50 ${ms(b.p50)}  p99 ${ms(b.p99)}`);
    console.log(`  clicktrail:          ${Math.round(o.rps)} req/s  p50 ${ms(o.p50)}  p99 ${ms(o.p99)}  (failed: ${failed})`);
    const rounds = (runs: typeof bareRuns) => runs.map((r) => Math.round(r.result.requests.average)).join(', ');
    console.log(`  each round, req/s:   bare [${rounds(bareRuns)}]; clicktrail [${rounds(ourRuns)}] (its first round starts with cold caches)`);
    console.log(`  throughput ratio:    ${throughputRatio.toFixed(2)} (goal ≥ 0.75)   p99 ratio: ${p99Ratio.toFixed(2)} (goal ≤ 2)   (medians of each round against the bare round before it)`);
    console.log(`  server CPU/request:  bare ${us(b.us)}; clicktrail ${us(o.us)} on the event loop, ${us(o.processUs)} with the click writer thread`);
    console.log(`  clicks recorded:     ${Math.round((after.written - before.written) / ourSeconds)} /s while loaded; queue sampled each second: [${queueSamples.join(', ')}], dropped ${after.dropped}`);
    console.log(`  store capacity:      ${Math.round(await storeCapacity(dir))} clicks/s committed in batches of 500 (goal ≥ 20,000)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
