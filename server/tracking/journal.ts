import { closeSync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { TrackingWrite } from './store.ts';

/** A database's click journal: a folder beside the file, of numbered segments of JSON lines. */
export const journalDir = (dbPath: string): string => `${dbPath}-clicks`;

const SEGMENT = /^(\d{8})\.jsonl$/;
export const segmentPath = (dir: string, segment: number): string => join(dir, `${String(segment).padStart(8, '0')}.jsonl`);

/** The journal's segments, oldest first. */
export function listSegments(dir: string): number[] {
  return readdirSync(dir)
    .map((name) => SEGMENT.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

export interface JournalOptions {
  /** A segment past this size is closed and the next one started. */
  segmentBytes?: number;
  /** Hits appended and not yet in the database; past this, new ones are dropped (and counted). */
  maxPending?: number;
}

/**
 * The click journal: a hit is durable once it is appended here, which is one write() for all
 * the hits of one turn of the event loop: no thread hop, no transaction, and a database that
 * is slow, locked or down never holds an answer back. Like SQLite's WAL at synchronous=NORMAL,
 * the data is in the kernel when write() returns, so a killed process loses nothing. The
 * ingester folds the journal into the database in large transactions, and deletes the
 * segments it has finished.
 */
export class ClickJournal {
  /** Hits appended by this process. */
  appended = 0;
  dropped = 0;
  /** Hits of this process that are in the database: the ingester says so. */
  written = 0;
  /** This process's first segment: the ones before it were left by an earlier run. */
  readonly firstSegment: number;
  private segment: number;
  private fd: number;
  private bytes = 0;
  private lines = '';
  private count = 0;
  private tick: { promise: Promise<void>; resolve: () => void } | null = null;
  private failures = 0;
  private readonly opts: Required<JournalOptions>;

  constructor(
    readonly dir: string,
    opts: JournalOptions = {},
    /** Called after each append reached the file (the in-process ingester writes it through at once). */
    private readonly onFlush: () => void = () => {},
  ) {
    this.opts = { segmentBytes: 64 * 1024 * 1024, maxPending: 1_000_000, ...opts };
    mkdirSync(dir, { recursive: true });
    this.segment = (listSegments(dir).at(-1) ?? 0) + 1;
    this.fd = this.open();
    this.firstSegment = this.segment;
  }

  /** Appended and not yet in the database. */
  get pending(): number {
    return this.appended - this.written;
  }

  /** Resolves once the hit is in the journal: with every other hit of this turn of the event loop. */
  append(write: TrackingWrite): Promise<void> {
    if (this.pending + this.count >= this.opts.maxPending) {
      this.dropped++;
      return Promise.resolve();
    }
    this.lines += JSON.stringify(write) + '\n';
    this.count++;
    if (!this.tick) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.tick = { promise, resolve };
      setImmediate(() => this.flush());
    }
    return this.tick.promise;
  }

  /** Writes what this turn appended. */
  flush(): void {
    const tick = this.tick;
    if (!tick) return;
    const { lines, count } = this;
    this.tick = null;
    this.lines = '';
    this.count = 0;
    try {
      const data = Buffer.from(lines);
      for (let at = 0; at < data.length; ) at += writeSync(this.fd, data, at);
      this.appended += count;
      this.bytes += data.length;
      this.failures = 0;
      if (this.bytes >= this.opts.segmentBytes) this.rotate();
    } catch (err) {
      // A full or failing disk: the answers still go out (nobody is stranded), the hits are lost and counted.
      this.dropped += count;
      if (this.failures++ % 1000 === 0) console.error('[clicktrail] cannot append to the click journal:', (err as Error).message);
    }
    tick.resolve();
    this.onFlush();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private open(): number {
    // 'wx': a segment is only ever this process's, even if another one is starting beside it.
    for (;;) {
      try {
        return openSync(segmentPath(this.dir, this.segment), 'wx');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        this.segment++;
      }
    }
  }

  private rotate(): void {
    closeSync(this.fd);
    this.segment++;
    this.fd = this.open();
    this.bytes = 0;
  }
}
