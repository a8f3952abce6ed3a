import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { TrackingWrite } from '../store/store.ts';

/** A database's click journal: a folder beside the file, of numbered segments of JSON lines. */
export const journalDir = (dbPath: string): string => `${dbPath}-clicks`;

const SEGMENT = /^(\d{8})\.jsonl$/;
export const segmentPath = (dir: string, segment: number): string => join(dir, `${String(segment).padStart(8, '0')}.jsonl`);

/**
 * Hits the database refused, one JSON object a line: `{segment, offset, error, hit}`. Kept
 * beside the journal, not in the database that refused them, for someone to look at (and
 * append to the journal again once the cause is mended).
 */
export const rejectedPath = (dir: string): string => join(dir, 'rejected.jsonl');

/** The journal's segments, oldest first. */
export function listSegments(dir: string): number[] {
  return readdirSync(dir)
    .map((name) => SEGMENT.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** Appends all of text to a file, or nothing of it: what a full disk cut short is cut off again. */
export function appendWhole(path: string, text: string): void {
  const fd = openSync(path, 'a');
  try {
    const size = fstatSync(fd).size;
    const data = Buffer.from(text);
    try {
      for (let at = 0; at < data.length; ) at += writeSync(fd, data, at);
    } catch (err) {
      ftruncateSync(fd, size);
      throw err;
    }
  } finally {
    closeSync(fd);
  }
}

const NEWLINE = 0x0a;
/** Hits held in memory are kept in chunks of about this size: a retry tries the oldest alone, without joining them all. */
const HELD_CHUNK = 64 * 1024;

export interface JournalOptions {
  /** A segment past this size is closed and the next one started. */
  segmentBytes?: number;
  /** Hits appended and not yet in the database; past this, new ones are dropped (and counted). */
  maxPending?: number;
  /** Hits held in memory while the journal refuses writes (a full disk); past this, new ones are dropped (and counted). */
  maxWaiting?: number;
  /** How soon hits held in memory are tried again when no new hit comes to try them. */
  retryMs?: number;
}

/** Whole lines of the journal not yet in its file. */
interface Held {
  data: Buffer;
  count: number;
}

/**
 * The click journal: a hit is durable once it is appended here, which is one write() for all
 * the hits of one turn of the event loop: no thread hop, no transaction, and a database that
 * is slow, locked or down never holds an answer back. Like SQLite's WAL at synchronous=NORMAL,
 * the data is in the kernel when write() returns, so a killed process loses nothing. The
 * ingester folds the journal into the database in large transactions, and deletes the
 * segments it has finished.
 *
 * A disk that refuses the write (full) must not strand anyone either: the answers still go
 * out, and the hits wait in memory, in order, for the next write (the next turn with hits, or
 * a timer), up to maxWaiting. Only whole lines are ever left in the file.
 */
export class ClickJournal {
  /** Hits appended by this process: in the file. */
  appended = 0;
  dropped = 0;
  /** Lines of this process's segments that the database is past: the ingester says so. */
  consumed = 0;
  /** Hits answered and held in memory, because the file refused them: not durable yet. */
  waiting = 0;
  /** This process's first segment: the ones before it were left by an earlier run. */
  readonly firstSegment: number;
  private segment: number;
  private fd: number;
  /**
   * The segment's whole lines end here, and the next write starts here: a write the disk cut
   * short is cut back to its last whole line, and what follows is written over by the next.
   */
  private bytes = 0;
  private lines = '';
  private count = 0;
  private tick: { promise: Promise<void>; resolve: () => void } | null = null;
  private held: Held[] = [];
  private retry: NodeJS.Timeout | null = null;
  private failures = 0;
  private readonly opts: Required<JournalOptions>;
  private readonly flushTurn = () => this.flush();

  constructor(
    readonly dir: string,
    opts: JournalOptions = {},
    /** Called after each append reached the file (the in-process ingester writes it through at once). */
    private readonly onFlush: () => void = () => {},
  ) {
    this.opts = { segmentBytes: 64 * 1024 * 1024, maxPending: 1_000_000, maxWaiting: 100_000, retryMs: 1_000, ...opts };
    mkdirSync(dir, { recursive: true });
    ({ fd: this.fd, segment: this.segment } = this.open((listSegments(dir).at(-1) ?? 0) + 1));
    this.firstSegment = this.segment;
  }

  /** Appended and not yet in the database. */
  get pending(): number {
    return this.appended - this.consumed;
  }

  /** Resolves once the hit is in the journal (or held in memory, if the file refused it): with every other hit of this turn of the event loop. */
  append(write: TrackingWrite): Promise<void> {
    const inMemory = this.waiting + this.count;
    if (this.pending + inMemory >= this.opts.maxPending || (this.waiting > 0 && inMemory >= this.opts.maxWaiting)) {
      this.dropped++;
      return Promise.resolve();
    }
    this.lines += JSON.stringify(write) + '\n';
    this.count++;
    if (!this.tick) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.tick = { promise, resolve };
      setImmediate(this.flushTurn);
    }
    return this.tick.promise;
  }

  /** Writes what this turn appended, after whatever waits in memory. */
  flush(): void {
    const tick = this.tick;
    const before = this.appended;
    if (tick) {
      const turn = { data: Buffer.from(this.lines), count: this.count };
      this.tick = null;
      this.lines = '';
      this.count = 0;
      if (this.held.length === 0) {
        const refused = this.write(turn);
        if (refused) this.hold(refused);
      } else {
        this.hold(turn);
        this.writeHeld();
      }
    } else if (this.held.length > 0) {
      this.writeHeld();
    }
    if (this.held.length > 0) {
      this.retry ??= setTimeout(() => {
        this.retry = null;
        this.flush();
      }, this.opts.retryMs).unref();
    } else if (this.bytes >= this.opts.segmentBytes) {
      this.rotate();
    }
    tick?.resolve();
    if (this.appended > before) this.onFlush();
  }

  close(): void {
    this.flush();
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    if (this.waiting > 0) {
      console.error(`[clicktrail] ${this.waiting} answered hits are lost: the click journal still refuses writes`);
      this.dropped += this.waiting;
      this.waiting = 0;
      this.held = [];
    }
    closeSync(this.fd);
  }

  /** One write at the end of the segment's whole lines; returns what the file refused. */
  private write(chunk: Held): Held | null {
    const { data, count } = chunk;
    let done = 0;
    try {
      while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, this.bytes + done);
    } catch (err) {
      return this.refused(chunk, done, err as Error);
    }
    this.appended += count;
    this.bytes += data.length;
    return null;
  }

  private refused({ data, count }: Held, done: number, err: Error): Held {
    // A line cut short would be glued to the next one written: only whole lines stay.
    const whole = done > 0 ? data.lastIndexOf(NEWLINE, done - 1) + 1 : 0;
    if (done > whole) {
      try {
        ftruncateSync(this.fd, this.bytes + whole);
      } catch {
        // Left: the next write in this segment starts there, with these same bytes.
      }
    }
    let lines = 0;
    for (let i = data.indexOf(NEWLINE); i !== -1 && i < whole; i = data.indexOf(NEWLINE, i + 1)) lines++;
    this.appended += lines;
    this.bytes += whole;
    if (this.failures++ % 1000 === 0) {
      console.error('[clicktrail] cannot append to the click journal, the hits wait in memory:', err.message);
    }
    // On a full disk the writer can free this segment's space only once a newer one exists.
    if (this.bytes > 0) this.rotate();
    return { data: data.subarray(whole), count: count - lines };
  }

  private hold(chunk: Held): void {
    this.waiting += chunk.count;
    const last = this.held.at(-1);
    if (last && last.data.length < HELD_CHUNK) {
      last.data = Buffer.concat([last.data, chunk.data]);
      last.count += chunk.count;
    } else {
      this.held.push(chunk);
    }
  }

  /** Oldest first: a disk still full refuses the first, and that costs one write. */
  private writeHeld(): void {
    while (this.held.length > 0) {
      const first = this.held[0]!;
      const refused = this.write(first);
      if (refused) {
        this.waiting -= first.count - refused.count;
        this.held[0] = refused;
        return;
      }
      this.waiting -= first.count;
      this.held.shift();
    }
    console.log('[clicktrail] the click journal takes writes again: the hits that waited in memory are in it');
    this.failures = 0;
  }

  private open(from: number): { fd: number; segment: number } {
    // 'wx': a segment is only ever this process's, even if another one is starting beside it.
    for (let segment = from; ; segment++) {
      try {
        return { fd: openSync(segmentPath(this.dir, segment), 'wx'), segment };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }

  /** Opened before the old one is closed: if the disk refuses even that, writing goes on in the old one. */
  private rotate(): void {
    let next: { fd: number; segment: number };
    try {
      next = this.open(this.segment + 1);
    } catch (err) {
      if (this.failures % 1000 <= 1) console.error('[clicktrail] cannot start a new click journal segment:', (err as Error).message);
      return;
    }
    closeSync(this.fd);
    this.fd = next.fd;
    this.segment = next.segment;
    this.bytes = 0;
  }
}
