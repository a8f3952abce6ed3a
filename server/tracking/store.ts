import type { BotReason, MessageStats, MessageSummary, PersonStats, SuspectReason } from '../../api/types.ts';
import type { RecipientRecord } from '../store/store.ts';

/** What the redirect needs to know about a link, cached in memory in front of the store. */
export interface LinkTarget {
  id: number;
  messageId: number;
  url: string;
  tracked: boolean;
  honeypot: boolean;
  /** Tracked links of its message, the honeypot aside: "all of a recipient's links" for burst detection. */
  messageTrackedLinks: number;
}

/** What the redirect needs to know about a recipient. */
export type RecipientTarget = Pick<RecipientRecord, 'id' | 'messageId' | 'personId' | 'email' | 'name' | 'attributes' | 'sentAt'>;

interface HitBase {
  recipientId: number;
  messageId: number;
  at: number;
  /** null: taken for a person. */
  botReason: BotReason | null;
  /** Already truncated or hashed: never a raw address. */
  ip: string | null;
  userAgent: string | null;
}

/** One thing to write, in journal order. */
export type TrackingWrite =
  | ({ kind: 'click'; linkId: number; /** A person's click that identifies nobody; absent in journals written before it existed. */ suspectReason?: SuspectReason | null } & HitBase)
  | ({ kind: 'open' } & HitBase)
  /** Human clicks of a recipient in [from, to] turn out to have been a machine's. */
  | { kind: 'reclassify'; recipientId: number; from: number; to: number; reason: BotReason };

/** How far the click journal has been written into the store: a segment and a byte offset in it. */
export interface JournalPosition {
  segment: number;
  offset: number;
}

/** What the redirect and the stats read. */
export interface TrackingStore {
  getLink(id: number): Promise<LinkTarget | null>;
  getRecipient(id: number): Promise<RecipientTarget | null>;
  messageStats(messageId: number): Promise<Omit<MessageStats, 'recipients' | 'sent' | 'goal'> & { goalCompleted: number }>;
  people(messageId: number): Promise<PersonStats[]>;
  headlines(messageIds: number[]): Promise<Map<number, Pick<MessageSummary, 'opens' | 'clicks'>>>;
  close(): Promise<void>;
}

/** The journal position in the database is not where this writer thought: someone else wrote it. */
export class JournalMoved extends Error {}

/**
 * The database refused a write for what the write says (a recipient it does not have, a value
 * a constraint rejects): trying it again fails the same way, unlike a database that is
 * locked, read-only or down, which only has to be waited for.
 */
export class HitRefused extends Error {}

/** A write of a batch that the database refused, by its index in the batch. */
export interface Refusal {
  index: number;
  error: string;
}

/** Where the click journal's ingester writes. */
export interface JournalTarget {
  /**
   * All in one transaction, counters included, and the journal position moved from `from` to
   * `to` with them. Throws, and writes nothing, when the database is unavailable or the
   * position is no longer `from` (another writer got there first); throws HitRefused when
   * a write of the batch was refused for itself (commitEach then finds which).
   */
  commit(batch: TrackingWrite[], journal?: { from: JournalPosition | null; to: JournalPosition }): void;
  /**
   * As commit, each write on its own savepoint: the ones refused for themselves are left out
   * and handed to setAside before the commit (so they are kept whenever the position moves
   * past them). Returns how many were written. A failure of the database as a whole, or of
   * setAside, throws and writes nothing.
   */
  commitEach(
    batch: TrackingWrite[],
    journal: { from: JournalPosition | null; to: JournalPosition },
    setAside: (refused: Refusal[]) => void,
  ): number;
  journalPosition(): JournalPosition | null;
}
