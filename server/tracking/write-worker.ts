import { parentPort, workerData } from 'node:worker_threads';
import { SqliteTrackingStore } from './sqlite-store.ts';
import type { TrackingWrite } from './store.ts';

/** The click writer's own thread: SQLite's commits (and their fsyncs) never stall the redirect's event loop. */
/** batch: a JSON array of TrackingWrite. */
export type WriterRequest = { id: number; batch: string } | { id: number; close: true };
export type WriterReply = { id: number; error?: string };

const store = new SqliteTrackingStore((workerData as { path: string }).path);

parentPort!.on('message', async (req: WriterRequest) => {
  if ('close' in req) {
    await store.close();
    parentPort!.postMessage({ id: req.id } satisfies WriterReply);
    return;
  }
  try {
    await store.write(JSON.parse(req.batch) as TrackingWrite[]);
    parentPort!.postMessage({ id: req.id } satisfies WriterReply);
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: (err as Error).message } satisfies WriterReply);
  }
});
