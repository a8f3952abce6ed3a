import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { withTestStore } from './postgres.ts';

const ROOT = join(import.meta.dirname, '../..');

export interface ChildServer {
  child: ChildProcess;
  port: number;
  output: () => string;
  /** Resolves with the exit code or signal. */
  exited: Promise<number | string>;
}

/**
 * The real server as its own process (`tsx server/main.ts`), as `npm start` runs it;
 * `openFiles` sets its limit on open files (`ulimit -n`), as a small host would have it.
 */
export async function startChildServer(env: Record<string, string>, { openFiles }: { openFiles?: number } = {}): Promise<ChildServer> {
  const node = [process.execPath, '--import', 'tsx', join(ROOT, 'server/main.ts')];
  const [command, ...args] = openFiles ? ['bash', '-c', `ulimit -n ${openFiles} && exec "$@"`, 'bash', ...node] : node;
  const child = spawn(command!, args, {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', ...withTestStore(env) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    const check = () => {
      const m = /listening on port (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => reject(new Error(`server exited before it listened:\n${out}`)));
  });
  return { child, port, output: () => out, exited };
}
