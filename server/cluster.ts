import cluster, { type Worker } from 'node:cluster';
import type { HubLink } from './messenger/hub.ts';

/** A message between the primary and its workers. */
type ClusterMessage = { hub: string } | { listening: number };

const RESTART_MS = 1_000;
const MAX_RESTART_MS = 30_000;

/**
 * CLICKTRAIL_WORKERS=N on one machine: N server processes on one port (Node's cluster), each a
 * node of its own (its own click journal and node id; worker 1 is the node a single process
 * is). The primary only starts them, starts a dead one again, passes the hub's wake-ups
 * between them, and stops them all on SIGTERM. Resolves with the port once all listen.
 */
export function runPrimary(workers: number): Promise<number> {
  const slots = new Map<number, Worker>();
  let stopping = false;
  let listening = 0;
  let resolvePort!: (port: number) => void;
  const port = new Promise<number>((resolve) => (resolvePort = resolve));
  const restarts = new Map<number, number>();

  const start = (index: number) => {
    const worker = cluster.fork({ CLICKTRAIL_WORKER_INDEX: String(index) });
    slots.set(index, worker);
    worker.on('message', (msg: ClusterMessage) => {
      if ('hub' in msg) {
        for (const other of slots.values()) if (other !== worker && other.isConnected()) other.send(msg);
      } else if ('listening' in msg) {
        restarts.set(index, 0);
        if (++listening === workers) resolvePort(msg.listening);
      }
    });
    worker.on('exit', (code, signal) => {
      if (slots.get(index) === worker) slots.delete(index);
      if (stopping) return;
      // Its answered clicks are safe in its journal; a new one takes that journal over, and gives back the claims of a send it cut short.
      const tries = restarts.get(index) ?? 0;
      const delay = Math.min(RESTART_MS * 2 ** tries, MAX_RESTART_MS);
      restarts.set(index, tries + 1);
      console.error(`[clicktrail] worker ${index} exited (${signal ?? code}): starting it again in ${delay / 1000} s`);
      setTimeout(() => start(index), delay);
    });
  };
  for (let i = 1; i <= workers; i++) start(i);

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      // Each worker writes what its journal holds before it exits.
      const exits = [...slots.values()].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
      for (const w of slots.values()) w.kill('SIGTERM');
      void Promise.all(exits).then(() => process.exit(0));
    });
  }
  return port;
}

/** In a worker: tells the primary it listens. */
export function reportListening(port: number): void {
  if (cluster.isWorker) process.send!({ listening: port } satisfies ClusterMessage);
}

/** In a worker: the hub's wake-ups to and from the other workers, through the primary. */
export function workerHubLink(): HubLink | null {
  if (!cluster.isWorker) return null;
  return {
    publish: (channel) => process.send!({ hub: channel } satisfies ClusterMessage),
    subscribe: (listener) =>
      process.on('message', (msg: ClusterMessage) => {
        if ('hub' in msg) listener(msg.hub);
      }),
  };
}
