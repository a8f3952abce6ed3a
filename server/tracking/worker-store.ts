import { Worker } from 'node:worker_threads';
import { SqliteTrackingStore } from './sqlite-store.ts';
import type { TrackingWrite } from './store.ts';
import type { WriterReply, WriterRequest } from './write-worker.ts';

// The worker runs TypeScript too: it registers tsx first, whatever started this process.
const WORKER = new URL('./write-worker.ts', import.meta.url).href;
const BOOT = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER)}); })`;

/**
 * The SQLite tracking store with its writes on a worker thread. Reads (a link or recipient
 * on a cache miss, stats) stay here: they are short and WAL lets them run beside a write.
 */
export class WorkerTrackingStore extends SqliteTrackingStore {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  constructor(private readonly path: string) {
    super(path);
  }

  /** The writer is up once it has answered a first (empty) batch. */
  override ready(): Promise<void> {
    return this.write([]);
  }

  private start(): Worker {
    const worker = new Worker(BOOT, { eval: true, workerData: { path: this.path } });
    worker.on('message', (reply: WriterReply) => {
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error) p?.reject(new Error(reply.error));
      else p?.resolve();
    });
    // A dead writer fails what it held (the recorder keeps and retries it) and is started again on the next write.
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`click writer exited (${code})`)));
    return worker;
  }

  private send(req: Omit<WriterRequest, 'id'>): Promise<void> {
    this.worker ??= this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage({ ...req, id });
    });
  }

  override write(batch: TrackingWrite[]): Promise<void> {
    // One JSON string crosses the thread boundary far cheaper than a structured clone of many small objects.
    return this.send({ batch: JSON.stringify(batch) });
  }

  override async close(): Promise<void> {
    const worker = this.worker;
    if (worker) {
      await this.send({ close: true });
      this.worker = null;
      await worker.terminate();
    }
    await super.close();
  }
}
