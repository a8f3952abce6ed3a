import { isAscii } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync, rmSync } from 'node:fs';
import { appendWhole, listSegments, rejectedPath, segmentPath } from './journal.ts';
import { HitRefused, JournalMoved, type JournalPosition, type JournalTarget, type Refusal, type TrackingWrite } from '../store/store.ts';

/** Read at most this much of a segment per transaction. */
const CHUNK = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

/** How far the writer has come, as the server's health shows it. */
export interface IngestStatus {
  /** Hits this process wrote into the database: its own and those an earlier run left. */
  written: number;
  /** Lines of this process's segments the database is past: written, set aside or unreadable. */
  consumed: number;
  /** Lines earlier runs left in the journal that are not in the database yet. */
  leftover: number;
  /** Hits the database refused, kept in rejected.jsonl. */
  setAside: number;
  /** Why the last attempt to write failed; null when it went through. */
  error: string | null;
}

/** Lines of one stretch of a segment. */
interface Stretch {
  writes: TrackingWrite[];
  /** Each write's byte offset in its segment. */
  offsets: number[];
  /** Newline-terminated lines, readable or not. */
  lines: number;
  unreadable: number;
}

/**
 * Folds the click journal into the database: reads from the position the database holds,
 * commits the hits together with the new position (so each is written exactly once, whatever
 * crashes when), and deletes each segment once it is past it. A segment is finished when a
 * newer one exists: the journal only starts a segment after its last write to the one before.
 *
 * A hit the database refuses for itself (it names a recipient the database does not have)
 * would refuse every retry, and every hit behind it would wait forever: it goes to
 * rejected.jsonl in the journal folder instead, and the position moves past it.
 */
export class JournalIngester {
  /** Hits of this run's segments that are in the database. */
  written = 0;
  /** Hits an earlier run left in the journal, written by this one. */
  recovered = 0;
  private reported = 0;
  /** Lines that could not be read (a write cut short by a crash), skipped. */
  skipped = 0;
  /** Hits the database refused, kept aside. */
  setAside = 0;
  /** Lines of this run's segments the database is past. */
  consumed = 0;
  /** Lines of earlier runs' segments not yet in the database: counted when the position is read. */
  leftover = 0;
  /** The database's position, as last read or written; undefined: read it first. */
  private position: JournalPosition | null | undefined;

  constructor(
    private readonly target: JournalTarget,
    private readonly dir: string,
    /** The first segment of this run; older ones hold an earlier run's hits. */
    private readonly firstSegment: number,
    /** This node's name: its position in the shared database is its own. */
    private readonly node: string,
  ) {}

  /**
   * Writes everything the journal holds now. Throws when the database is unavailable: the
   * position has not moved then, and the next step starts from the same place.
   */
  async step(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.stepOnce();
      if (n === null) return total;
      total += n;
    }
  }

  /** One transaction's worth; null when there was nothing new. */
  private async stepOnce(): Promise<number | null> {
    if (this.position === undefined) {
      this.position = await this.target.journalPosition(this.node);
      this.leftover = this.countLeftover(this.position);
    }
    const from = this.position;
    const segments = listSegments(this.dir);
    if (segments.length === 0) return null;
    const at = startOf(from, segments);
    // Looked at before reading: if a newer segment exists now, this one has had its last write.
    const next = segments.find((s) => s > at.segment);
    const { data, toEnd } = readFrom(segmentPath(this.dir, at.segment), at.offset);
    const whole = data.lastIndexOf(NEWLINE) + 1;
    const stretch = this.parse(data.subarray(0, whole), at.offset);
    const { writes } = stretch;

    let to: JournalPosition;
    let cutShort = false;
    if (toEnd && next !== undefined) {
      cutShort = whole < data.length; // the last line was cut short: its answer never went out
      to = { segment: next, offset: 0 };
    } else {
      to = { segment: at.segment, offset: at.offset + whole };
    }
    if (to.segment === from?.segment && to.offset === from.offset) return null;

    const move = { node: this.node, from, to };
    let written: number;
    try {
      try {
        await this.target.commit(writes, move);
        written = writes.length;
      } catch (err) {
        if (!(err instanceof HitRefused)) throw err;
        written = await this.target.commitEach(writes, move, (refused) => this.putAside(at.segment, stretch, refused));
      }
    } catch (err) {
      if (err instanceof JournalMoved) this.position = undefined;
      throw err;
    }
    this.position = to;
    this.skipped += stretch.unreadable + (cutShort ? 1 : 0);
    this.setAside += writes.length - written;
    if (at.segment >= this.firstSegment) {
      this.written += written;
      this.consumed += stretch.lines;
    } else {
      this.recovered += written;
      // Against the rule of one server per database, an earlier run may still be appending: never below zero.
      this.leftover = Math.max(0, this.leftover - stretch.lines);
    }
    if (to.segment !== at.segment) {
      rmSync(segmentPath(this.dir, at.segment), { force: true });
      if (at.segment < this.firstSegment && this.recovered > this.reported) {
        console.log(`[clicktrail] wrote ${this.recovered - this.reported} hits an earlier run left in the click journal`);
        this.reported = this.recovered;
      }
    }
    return written;
  }

  status(error: string | null): IngestStatus {
    return { written: this.written + this.recovered, consumed: this.consumed, leftover: this.leftover, setAside: this.setAside, error };
  }

  /**
   * Appended before the commit that moves past them, so a refused hit is never lost; if that
   * commit then fails they are appended again at the retry, and segment and offset tell the
   * copies apart.
   */
  private putAside(segment: number, stretch: Stretch, refused: Refusal[]): void {
    const lines = refused.map(({ index, error }) =>
      JSON.stringify({ segment, offset: stretch.offsets[index], error, hit: stretch.writes[index] }),
    );
    appendWhole(rejectedPath(this.dir), lines.join('\n') + '\n');
    console.error(
      `[clicktrail] the database refused ${refused.length} hit(s) (${refused[0]!.error}): kept in ${rejectedPath(this.dir)}, the hits after them go on`,
    );
  }

  private parse(lines: Buffer, offset: number): Stretch {
    const stretch: Stretch = { writes: [], offsets: [], lines: 0, unreadable: 0 };
    // Decoded once when it is all ASCII (as it nearly always is), where a character is a byte:
    // a decode per line cost more than parsing it.
    const whole = isAscii(lines) ? lines.toString('latin1') : null;
    for (let start = 0; start < lines.length; ) {
      const end = lines.indexOf(NEWLINE, start);
      stretch.lines++;
      if (end > start) {
        try {
          stretch.writes.push(JSON.parse(whole !== null ? whole.slice(start, end) : lines.toString('utf8', start, end)) as TrackingWrite);
          stretch.offsets.push(offset + start);
        } catch {
          stretch.unreadable++;
        }
      }
      start = end + 1;
    }
    return stretch;
  }

  /** Lines past the position in the segments earlier runs left: hits nobody in this process appended. */
  private countLeftover(from: JournalPosition | null): number {
    const segments = listSegments(this.dir);
    if (segments.length === 0) return 0;
    const at = startOf(from, segments);
    let lines = 0;
    for (const segment of segments) {
      if (segment < at.segment || segment >= this.firstSegment) continue;
      lines += countLines(segmentPath(this.dir, segment), segment === at.segment ? at.offset : 0);
    }
    return lines;
  }
}

/** No position yet, or its segment is gone (the folder was emptied): from the oldest segment there is. */
function startOf(from: JournalPosition | null, segments: number[]): JournalPosition {
  return from && segments.includes(from.segment) ? from : { segment: segments[0]!, offset: 0 };
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

function countLines(path: string, offset: number): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0; // written and deleted meanwhile
    throw err;
  }
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    let lines = 0;
    for (let at = offset; ; ) {
      const n = readSync(fd, buffer, 0, buffer.length, at);
      if (n === 0) return lines;
      const read = buffer.subarray(0, n);
      for (let i = read.indexOf(NEWLINE); i !== -1; i = read.indexOf(NEWLINE, i + 1)) lines++;
      at += n;
    }
  } finally {
    closeSync(fd);
  }
}
