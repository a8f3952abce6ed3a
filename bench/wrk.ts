import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

/**
 * The load comes from wrk (Debian's package), a C program: a load generator written in Node
 * would take the same kind of CPU as the servers it measures, and flatter the slower one.
 */

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  /** Latency percentiles, in ms. */
  p50: number;
  p99: number;
  /** Socket errors, timeouts and statuses above 399: a redirect that failed. */
  errors: number;
}

/** Which cores the load tool and the servers get: apart when there are two or more. */
export interface Cores {
  /** `taskset -c` lists, or null when the machine has one core (nothing to pin apart). */
  load: string | null;
  servers: string | null;
}

export function cores(): Cores {
  const n = availableParallelism();
  if (n < 2 || !hasProgram('taskset')) return { load: null, servers: null };
  return { load: '0', servers: n === 2 ? '1' : `1-${n - 1}` };
}

export function requireWrk(): void {
  if (hasProgram('wrk')) return;
  console.error('npm run bench needs wrk, the HTTP load tool: apt-get install wrk (Debian), brew install wrk (macOS).');
  process.exit(2);
}

function hasProgram(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `command` on these cores (taskset), or as it is. */
export function pinned(command: string[], list: string | null): string[] {
  return list === null ? command : ['taskset', '-c', list, ...command];
}

/**
 * A Lua script for wrk that sends GETs over the paths in `pathsFile`, each wrk thread starting
 * at its own place, with requests built once (building one per request costs wrk more than
 * the fastest server takes to answer it), and prints its results as JSON.
 */
function script(dir: string, pathsFile: string, headers: Record<string, string>): string {
  const file = join(dir, 'paths.lua');
  const headerLines = Object.entries(headers)
    .map(([k, v]) => `  wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
    .join('\n');
  writeFileSync(
    file,
    `local threads = 0
function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end
local requests, n, i = {}, 0, 0
function init(args)
${headerLines}
  for path in io.lines(${JSON.stringify(pathsFile)}) do
    n = n + 1
    requests[n] = wrk.format("GET", path)
  end
  i = (offset or 0) * 7919
end
function request()
  i = i + 1
  return requests[(i % n) + 1]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"us":%d,"p50":%d,"p99":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
`,
  );
  return file;
}

export interface Load {
  port: number;
  connections: number;
  seconds: number;
  /** A file of paths, one per line. */
  pathsFile: string;
  headers: Record<string, string>;
  cores: Cores;
  /** Where the Lua script is written. */
  dir: string;
}

export function wrk(load: Load): Promise<WrkResult> {
  const lua = script(load.dir, load.pathsFile, load.headers);
  // One wrk thread per load core: with 4 connections, more threads only share them out.
  const command = pinned(
    ['wrk', '-t1', `-c${load.connections}`, `-d${load.seconds}s`, '--timeout', '5s', '-s', lua, `http://127.0.0.1:${load.port}`],
    load.cores.load,
  );
  return new Promise((resolve, reject) =>
    execFile(command[0]!, command.slice(1), { encoding: 'utf8' }, (err, stdout) => {
      if (err) return reject(err);
      const line = stdout.split('\n').find((l) => l.startsWith('{"requests"'));
      if (!line) return reject(new Error(`wrk printed no result:\n${stdout}`));
      const r = JSON.parse(line) as { requests: number; us: number; p50: number; p99: number; errors: number };
      const seconds = r.us / 1e6;
      resolve({ requests: r.requests, seconds, rps: r.requests / seconds, p50: r.p50 / 1000, p99: r.p99 / 1000, errors: r.errors });
    }),
  );
}
