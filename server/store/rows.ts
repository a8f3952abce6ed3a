import type {
  Channel,
  ClickReasons,
  ConversationMessage,
  ConversationSummary,
  IdentifiedBy,
  LinkPlacement,
  MessageKind,
  PersonStats,
  ReplyEmail,
  StatsLink,
  Suppression,
} from '../../api/types.ts';
import { BURST_MS, HONEYPOT_MS } from '../tracking/recent-hits.ts';
import type { MessageRecord, NewMessage, RecipientRecord, ReplyEmailClaim, VisitorIdentity, VisitorRecord } from './store.ts';

/**
 * The tables' rows as both stores read them (the same columns in SQLite and PostgreSQL: one
 * schema, two dialects), and the records they make.
 */

export const iso = (ms: number) => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null) => (ms == null ? null : iso(ms));
/** How much of a conversation's last message its summary keeps. */
export const PREVIEW_CHARS = 140;

/**
 * A message's content as both stores write it, at creation and at a draft's edit alike, in
 * the order their statements name the columns: subject, html, text, kind, from, reply-to,
 * goal event, goal days, compiled.
 */
export const contentValues = (m: NewMessage) => [
  m.subject,
  m.html,
  m.text,
  m.kind ?? 'marketing',
  m.from ?? null,
  m.replyTo ?? null,
  m.goal?.event ?? null,
  m.goal?.withinDays ?? null,
  JSON.stringify(m.compiled),
];

export interface MessageRow {
  id: number;
  subject: string;
  html: string;
  text: string | null;
  channel: Channel;
  kind: MessageKind;
  from_address: string | null;
  reply_to: string | null;
  goal_event: string | null;
  goal_within_days: number | null;
  /** JSON: in-app messages' Audience. */
  audience: string | null;
  /** JSON: push messages' PushContent. */
  push: string | null;
  compiled: string;
  created_at: number;
  sent_at: number | null;
}

export interface LinkRow {
  id: number;
  message_id: number;
  position: number;
  part: 'html' | 'text';
  url: string;
  text: string;
  tracked: number;
  reason: LinkPlacement['reason'] | null;
  honeypot: number;
}

export interface RecipientRow {
  id: number;
  message_id: number;
  person_id: number | null;
  email: string | null;
  name: string | null;
  attributes: string;
  status: RecipientRecord['status'];
  sent_at: number | null;
  error: string | null;
  unsubscribed_at: number | null;
}

export interface SuppressionRow {
  email: string;
  reason: Suppression['reason'];
  message_id: number | null;
  at: number;
}

export interface VisitorRow {
  id: number;
  secret_hash: Buffer;
  person_id: number | null;
  identified_by: IdentifiedBy | null;
  recipient_id: number | null;
  link_id: number | null;
  contact_email: string | null;
}

export function toVisitor(r: VisitorRow): VisitorRecord {
  const identity: VisitorIdentity | null =
    r.person_id !== null && r.identified_by
      ? { personId: r.person_id, identifiedBy: r.identified_by, recipientId: r.recipient_id, linkId: r.link_id }
      : null;
  return { id: r.id, secretHash: r.secret_hash, identity, hasContactEmail: r.contact_email !== null };
}

export interface ConversationRow {
  id: number;
  visitor_id: number;
  person_id: number | null;
  identified_by: IdentifiedBy | null;
  page_url: string | null;
  started_at: number;
  last_message_at: number;
  last_message: string;
  p_name: string | null;
  p_email: string | null;
}

export interface ReplyEmailRow {
  id: number;
  conversation_id: number;
  after_id: number;
  through_id: number;
  status: ReplyEmail['status'];
  attempts: number;
  created_at: number;
  sent_at: number | null;
  clicked_at: number | null;
}

export const toReplyEmail = (r: ReplyEmailRow): ReplyEmail => ({
  id: r.id,
  through: r.through_id,
  status: r.status,
  sentAt: isoOrNull(r.sent_at),
  clickedAt: isoOrNull(r.clicked_at),
});

export const toReplyEmailClaim = (r: ReplyEmailRow): ReplyEmailClaim => ({
  id: r.id,
  conversationId: r.conversation_id,
  after: r.after_id,
  through: r.through_id,
  attempt: r.attempts,
  createdAt: r.created_at,
});

/** What replies by email read of a conversation (conversationsSql.replyState). */
export interface ReplyStateRow {
  address: string | null;
  contact_email: string | null;
  page_url: string | null;
  seen_through: number;
}

/** A due conversation's batch (conversationsSql.replyBatch); `addressed` is 0/1 on SQLite, a boolean on PostgreSQL. */
export interface ReplyBatchRow {
  after: number;
  through: number;
  waiting_since: number;
  addressed: number | boolean;
}

/** Whether a due conversation's batch is mailed now: someone to mail, replies past what was seen and mailed, not too old. */
export const mailsBatch = (b: ReplyBatchRow, oldestBy: number): boolean => Boolean(b.addressed) && b.through > b.after && b.waiting_since >= oldestBy;

export interface ConversationMessageRow {
  id: number;
  conversation_id: number;
  author: ConversationMessage['author'];
  body: string;
  at: number;
}

export function toLink(row: LinkRow): LinkPlacement {
  const link: LinkPlacement = { id: row.id, url: row.url, position: row.position, text: row.text, tracked: row.tracked === 1, part: row.part };
  if (row.reason) link.reason = row.reason;
  return link;
}

/** A message and its links (its honeypot among them), as both stores read them. */
export function toMessageRecord(row: MessageRow, links: LinkRow[]): MessageRecord {
  return {
    id: row.id,
    subject: row.subject,
    html: row.html,
    text: row.text,
    channel: row.channel,
    kind: row.kind,
    from: row.from_address,
    replyTo: row.reply_to,
    goal: row.goal_event ? { event: row.goal_event, withinDays: row.goal_within_days! } : null,
    audience: row.audience === null ? null : JSON.parse(row.audience),
    push: row.push === null ? null : JSON.parse(row.push),
    compiled: JSON.parse(row.compiled),
    createdAt: row.created_at,
    sentAt: row.sent_at,
    links: links.filter((l) => l.honeypot === 0).map(toLink),
    honeypotLinkId: links.find((l) => l.honeypot === 1)?.id ?? null,
  };
}

export const toSuppression = (r: SuppressionRow): Suppression => ({ email: r.email, reason: r.reason, messageId: r.message_id, at: iso(r.at) });

export function toRecipient(row: RecipientRow): RecipientRecord {
  return {
    id: row.id,
    messageId: row.message_id,
    personId: row.person_id,
    email: row.email,
    name: row.name,
    attributes: JSON.parse(row.attributes),
    status: row.status,
    sentAt: row.sent_at,
    error: row.error,
    unsubscribedAt: row.unsubscribed_at,
  };
}

export const toConversationMessage = (r: ConversationMessageRow): ConversationMessage => ({
  id: r.id,
  conversationId: r.conversation_id,
  author: r.author,
  body: r.body,
  at: iso(r.at),
});

export function toSummary(r: ConversationRow): ConversationSummary {
  return {
    id: r.id,
    person: r.person_id === null ? null : { id: r.person_id, name: r.p_name, email: r.p_email! },
    identifiedBy: r.identified_by,
    startedAt: iso(r.started_at),
    lastMessageAt: iso(r.last_message_at),
    lastMessage: r.last_message,
    pageUrl: r.page_url,
  };
}

// ---- stats: what the counter tables' rows make, the same from either store

export interface LinkCountsRow {
  id: number;
  url: string;
  position: number;
  text: string;
  part: 'html' | 'text';
  total: number;
  uniq: number;
  bot: number;
  suspect: number;
}
export interface ReasonRow {
  verdict: 'bot' | 'suspect';
  reason: string;
  n: number;
}
export interface HourRow {
  hour: number;
  human: number;
  bot: number;
}
export interface PairRow {
  recipient_id: number;
  link_id: number;
  human: number;
  bot: number;
  suspect: number;
  first_at: number | null;
  last_at: number | null;
}
export interface PersonRow {
  id: number;
  email: string | null;
  name: string | null;
  sent_at: number | null;
  opened_at: number | null;
  goal_at: number | null;
  dismissed_at: number | null;
  unsubscribed_at: number | null;
}

export const statsLinks = (rows: LinkCountsRow[]): StatsLink[] =>
  rows.map((l) => ({ id: l.id, url: l.url, position: l.position, text: l.text, part: l.part, clicks: { total: l.total, unique: l.uniq, bot: l.bot, suspect: l.suspect } }));

export function clickReasons(rows: ReasonRow[]): ClickReasons {
  const reasons: ClickReasons = { bot: {}, suspect: {} };
  for (const r of rows) (reasons[r.verdict] as Record<string, number>)[r.reason] = r.n;
  return reasons;
}

export const timeline = (rows: HourRow[]) =>
  rows.filter((h) => h.human !== 0 || h.bot !== 0).map((h) => ({ hour: iso(h.hour), human: h.human, bot: h.bot }));

/** The people rows of a message: its recipients, each with their clicks per link and why any were set apart. */
export function peopleStats(recipients: PersonRow[], pairs: PairRow[], reasons: (ReasonRow & { recipient_id: number; link_id: number })[]): PersonStats[] {
  const reasonsOf = new Map<string, ReasonRow[]>();
  for (const r of reasons) {
    const key = `${r.recipient_id}:${r.link_id}`;
    reasonsOf.set(key, [...(reasonsOf.get(key) ?? []), r]);
  }
  const byRecipient = new Map<number, PersonStats['clicks']>();
  for (const row of pairs) {
    const list = byRecipient.get(row.recipient_id) ?? [];
    list.push({
      linkId: row.link_id,
      count: row.human,
      suspect: row.suspect,
      bot: row.bot,
      reasons: clickReasons(reasonsOf.get(`${row.recipient_id}:${row.link_id}`) ?? []),
      firstAt: isoOrNull(row.first_at),
      lastAt: isoOrNull(row.last_at),
    });
    byRecipient.set(row.recipient_id, list);
  }
  return recipients.map((r) => ({
    recipientId: r.id,
    email: r.email,
    name: r.name,
    sentAt: isoOrNull(r.sent_at),
    openedAt: isoOrNull(r.opened_at),
    clicks: byRecipient.get(r.id) ?? [],
    goalAt: isoOrNull(r.goal_at),
    dismissedAt: isoOrNull(r.dismissed_at),
    unsubscribedAt: isoOrNull(r.unsubscribed_at),
  }));
}

// ---- the click ingest's counters, summed over a batch by either store

/** What a batch adds to one link's or message's counters (taken-back clicks subtract). */
export interface Delta {
  total: number;
  unique: number;
  bot: number;
  suspect: number;
}

export const bump = <K>(map: Map<K, Delta>, key: K): Delta => {
  let d = map.get(key);
  if (!d) map.set(key, (d = { total: 0, unique: 0, bot: 0, suspect: 0 }));
  return d;
};

/** The span around a click in which every node's hits judge it again: the honeypot's, and the burst's. */
export const NEIGHBOUR_MS = Math.max(HONEYPOT_MS, BURST_MS);

/** How long a store keeps the settings in memory: read on every click, changed by any node. */
export const SETTINGS_TTL_MS = 1_000;
