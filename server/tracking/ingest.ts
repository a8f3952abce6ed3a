import { closeSync, fstatSync, openSync, readSync, rmSync } from 'node:fs';
import { listSegments, segmentPath } from './journal.ts';
import { JournalMoved, type JournalPosition, type JournalTarget, type TrackingWrite } from './store.ts';

/** Read at most this much of a segment per transaction. */
const CHUNK = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

/**
 * Folds the click journal into the database: reads from the position the database holds,
 * commits the hits together with the new position (so each is written exactly once, whatever
 * crashes when), and deletes each segment once it is past it. A segment is finished when a
 * newer one exists: the journal only starts a segment after its last write to the one before.
 */
export class JournalIngester {
  /** Hits of this run's segments that are in the database. */
  written = 0;
  /** Hits an earlier run left in the journal, written by this one. */
  recovered = 0;
  private reported = 0;
  /** Lines that could not be read (a write cut short by a crash), skipped. */
  skipped = 0;
  /** The database's position, as last read or written; undefined: read it first. */
  private position: JournalPosition | null | undefined;

  constructor(
    private readonly target: JournalTarget,
    private readonly dir: string,
    /** The first segment of this run; older ones hold an earlier run's hits. */
    private readonly firstSegment: number,
  ) {}

  /**
   * Writes everything the journal holds now. Throws when the database is unavailable: the
   * position has not moved then, and the next step starts from the same place.
   */
  step(): number {
    let total = 0;
    for (;;) {
      const n = this.stepOnce();
      if (n === null) return total;
      total += n;
    }
  }

  /** One transaction's worth; null when there was nothing new. */
  private stepOnce(): number | null {
    if (this.position === undefined) this.position = this.target.journalPosition();
    const from = this.position;
    const segments = listSegments(this.dir);
    if (segments.length === 0) return null;
    // No position yet, or its segment is gone (the folder was emptied): from the oldest segment there is.
    const at = from && segments.includes(from.segment) ? from : { segment: segments[0]!, offset: 0 };
    // Looked at before reading: if a newer segment exists now, this one has had its last write.
    const next = segments.find((s) => s > at.segment);
    const { data, toEnd } = readFrom(segmentPath(this.dir, at.segment), at.offset);
    const whole = data.lastIndexOf(NEWLINE) + 1;
    const batch = this.parse(data.subarray(0, whole));

    let to: JournalPosition;
    if (toEnd && next !== undefined) {
      if (whole < data.length) this.skipped++; // the last line was cut short: its answer never went out
      to = { segment: next, offset: 0 };
    } else {
      to = { segment: at.segment, offset: at.offset + whole };
    }
    if (to.segment === from?.segment && to.offset === from.offset) return null;

    try {
      this.target.commit(batch, { from, to });
    } catch (err) {
      if (err instanceof JournalMoved) this.position = undefined;
      throw err;
    }
    this.position = to;
    if (at.segment >= this.firstSegment) this.written += batch.length;
    else this.recovered += batch.length;
    if (to.segment !== at.segment) {
      rmSync(segmentPath(this.dir, at.segment), { force: true });
      if (at.segment < this.firstSegment && this.recovered > this.reported) {
        console.log(`[clicktrail] wrote ${this.recovered - this.reported} hits an earlier run left in the click journal`);
        this.reported = this.recovered;
      }
    }
    return batch.length;
  }

  private parse(lines: Buffer): TrackingWrite[] {
    const batch: TrackingWrite[] = [];
    for (const line of lines.toString('utf8').split('\n')) {
      if (line === '') continue;
      try {
        batch.push(JSON.parse(line) as TrackingWrite);
      } catch {
        this.skipped++;
      }
    }
    return batch;
  }
}

function readFrom(path: string, offset: number): { data: Buffer; toEnd: boolean } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const data = Buffer.allocUnsafe(Math.max(0, Math.min(size - offset, CHUNK)));
    let read = 0;
    while (read < data.length) {
      const n = readSync(fd, data, read, data.length - read, offset + read);
      if (n === 0) break;
      read += n;
    }
    return { data: data.subarray(0, read), toEnd: offset + read >= size };
  } finally {
    closeSync(fd);
  }
}
