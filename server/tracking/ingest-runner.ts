import { Worker } from 'node:worker_threads';
import type { DatabaseConfig } from '../config/config.ts';
import type { IngestStatus, JournalIngester } from './ingest.ts';
import { IngestLoop, type WriterReply, type WriterRequest } from './ingest-loop.ts';
import type { ClickJournal } from './journal.ts';

/** A writer thread that died is started again after this, doubling up to the maximum. */
const RESTART_MS = 1_000;
const MAX_RESTART_MS = 60_000;

/** Brings the journal into the database, from wherever the ingester runs. */
export interface IngestRunner {
  /** Resolves once everything appended so far is in the database; rejects while it is unavailable. */
  sync(): Promise<void>;
  /** Ingests what is left (for a while, if the database is unavailable: the journal keeps the rest). */
  close(): Promise<void>;
  /** The writer's counts and state, as last heard. */
  readonly status: IngestStatus;
}

/**
 * The ingester on this thread, writing each append through at once: a hit is in the database
 * by the time its answer is out, unless the database is unavailable (then it is retried).
 * For tests of the app without a server, and tools.
 */
export class InlineIngest implements IngestRunner {
  private readonly loop: IngestLoop;

  constructor(
    ingester: JournalIngester,
    private readonly journal: ClickJournal,
  ) {
    this.loop = new IngestLoop(ingester, null, (status) => (journal.consumed = status.consumed));
  }

  get status(): IngestStatus {
    return this.loop.status();
  }

  /** The journal has just appended: write it through. */
  appended(): void {
    // kept in the journal, retried
    this.loop.run().catch(() => {});
  }

  async sync(): Promise<void> {
    this.journal.flush();
    await this.loop.run();
  }

  async close(): Promise<void> {
    await this.loop.drain();
  }
}

// The worker runs TypeScript too: it registers tsx first, whatever started this process.
const WORKER = new URL('./write-worker.ts', import.meta.url).href;
const BOOT = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER)}); })`;

/**
 * The ingester on a thread of its own, so that SQLite's transactions and checkpoints never
 * take the redirect's event loop. It polls the journal; sync() asks it to catch up now.
 */
export class WorkerIngest implements IngestRunner {
  private worker: Worker | null = null;
  private closing = false;
  private restarts = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  status: IngestStatus = { written: 0, consumed: 0, leftover: 0, setAside: 0, error: null };

  constructor(
    private readonly database: DatabaseConfig,
    private readonly nodeId: string,
    private readonly journal: ClickJournal,
  ) {}

  private start(): Worker {
    // A restarted writer counts from zero what it writes; what the last one wrote stays written.
    const before = this.status;
    const worker = new Worker(BOOT, {
      eval: true,
      workerData: { database: this.database, nodeId: this.nodeId, dir: this.journal.dir, firstSegment: this.journal.firstSegment },
    });
    worker.on('message', (reply: WriterReply) => {
      this.restarts = 0;
      const s = reply.status;
      this.status = {
        written: before.written + s.written,
        consumed: before.consumed + s.consumed,
        leftover: s.leftover,
        setAside: before.setAside + s.setAside,
        error: s.error,
      };
      this.journal.consumed = this.status.consumed;
      if (reply.id === undefined) return;
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error) p?.reject(new Error(reply.error));
      else p?.resolve();
    });
    // A dead writer fails what waits on it and is started again a moment later; the journal holds every hit.
    const fail = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.status = { ...this.status, error: `click writer stopped: ${err.message}` };
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      if (!this.closing) {
        // Backing off: a writer that cannot start (a database it cannot open) must not spin.
        const delay = Math.min(RESTART_MS * 2 ** this.restarts++, MAX_RESTART_MS);
        console.error(`[clicktrail] click writer stopped, starting it again in ${delay / 1000} s:`, err.message);
        setTimeout(() => (this.worker ??= this.start()), delay).unref();
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`click writer exited (${code})`)));
    return worker;
  }

  private request(op: WriterRequest['op']): Promise<void> {
    this.worker ??= this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage({ id, op } satisfies WriterRequest);
    });
  }

  sync(): Promise<void> {
    this.journal.flush();
    return this.request('sync');
  }

  async close(): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    if (!worker) return;
    await this.request('close').catch((err: Error) => console.error('[clicktrail] click writer:', err.message));
    this.worker = null;
    await worker.terminate();
  }
}
