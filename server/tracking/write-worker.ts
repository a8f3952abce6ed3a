import { parentPort, workerData } from 'node:worker_threads';
import { JournalIngester } from './ingest.ts';
import { IngestLoop, POLL_MS } from './ingest-runner.ts';
import { SqliteTrackingStore } from './sqlite-store.ts';

/** The click writer's own thread: folds the journal into SQLite, whose commits and checkpoints never stall the redirect. */
export type WriterRequest = { id: number; op: 'sync' | 'close' };
/** written: hits of this run in the database so far. */
export type WriterReply = { id?: number; written: number; error?: string };

const { dbPath, dir, firstSegment } = workerData as { dbPath: string; dir: string; firstSegment: number };
// The app's own writes (messages, conversations) hold the lock for moments: wait those out here.
const store = new SqliteTrackingStore(dbPath, { busyTimeoutMs: 1_000 });
const ingester = new JournalIngester(store, dir, firstSegment);
const post = (reply: Omit<WriterReply, 'written'>) => parentPort!.postMessage({ ...reply, written: ingester.written } satisfies WriterReply);
const loop = new IngestLoop(ingester, POLL_MS, () => post({}));

parentPort!.on('message', async (req: WriterRequest) => {
  if (req.op === 'close') {
    const drained = await loop.drain();
    await store.close();
    post({ id: req.id, ...(drained ? {} : { error: 'the database stayed unavailable: the rest waits in the click journal for the next start' }) });
    return;
  }
  try {
    loop.run();
    post({ id: req.id });
  } catch (err) {
    post({ id: req.id, error: (err as Error).message });
  }
});
