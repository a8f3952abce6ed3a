import type { BotReason, MessageStats, MessageSummary, PersonStats } from '../../api/types.ts';
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

/** One thing to write, in order, in the next group commit. */
export type TrackingWrite =
  | ({ kind: 'click'; linkId: number } & HitBase)
  | ({ kind: 'open' } & HitBase)
  /** Human clicks of a recipient in [from, to] turn out to have been a machine's. */
  | { kind: 'reclassify'; recipientId: number; from: number; to: number; reason: BotReason };

export interface TrackingStore {
  getLink(id: number): Promise<LinkTarget | null>;
  getRecipient(id: number): Promise<RecipientTarget | null>;
  /** All in one transaction, counters included; throws (and writes nothing) when the database is unavailable. */
  write(batch: TrackingWrite[]): Promise<void>;

  messageStats(messageId: number): Promise<Omit<MessageStats, 'recipients' | 'sent' | 'goal'> & { goalCompleted: number }>;
  people(messageId: number): Promise<PersonStats[]>;
  headlines(messageIds: number[]): Promise<Map<number, Pick<MessageSummary, 'opens' | 'clicks'>>>;
  /** Resolves once writes can go through (a writer thread has started). */
  ready(): Promise<void>;
  close(): Promise<void>;
}
