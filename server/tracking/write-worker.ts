import { parentPort, workerData } from 'node:worker_threads';
import { JournalIngester } from './ingest.ts';
import { IngestLoop, POLL_MS, type WriterReply, type WriterRequest } from './ingest-loop.ts';
import type { DatabaseConfig } from '../config/config.ts';
import { openStore } from '../store/open.ts';

/** The click writer's own thread: folds the journal into the database, whose commits and checkpoints never stall the redirect. */

const { database, nodeId, dir, firstSegment } = workerData as { database: DatabaseConfig; nodeId: string; dir: string; firstSegment: number };
// The app's own writes (messages, conversations) hold the lock for moments: wait those out here.
const store = openStore(database, { busyTimeoutMs: 1_000 });
const ingester = new JournalIngester(store, dir, firstSegment, nodeId);
const post = (reply: Omit<WriterReply, 'status'>) => parentPort!.postMessage({ ...reply, status: loop.status() } satisfies WriterReply);
const loop = new IngestLoop(ingester, POLL_MS, () => post({}));

parentPort!.on('message', async (req: WriterRequest) => {
  if (req.op === 'close') {
    const drained = await loop.drain();
    await store.close();
    post({ id: req.id, ...(drained ? {} : { error: 'the database stayed unavailable: the rest waits in the click journal for the next start' }) });
    return;
  }
  try {
    await loop.run();
    post({ id: req.id });
  } catch (err) {
    post({ id: req.id, error: (err as Error).message });
  }
});
