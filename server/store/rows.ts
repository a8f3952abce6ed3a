import type { Channel, ConversationMessage, ConversationSummary, IdentifiedBy, LinkPlacement } from '../../api/types.ts';
import type { RecipientRecord } from './store.ts';

/**
 * The tables' rows as both stores read them (the same columns in SQLite and PostgreSQL: one
 * schema, two dialects), and the records they make.
 */

export const iso = (ms: number) => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null) => (ms == null ? null : iso(ms));
/** How much of a conversation's last message its summary keeps. */
export const PREVIEW_CHARS = 140;

export interface MessageRow {
  id: number;
  subject: string;
  html: string;
  text: string | null;
  channel: Channel;
  goal_event: string | null;
  goal_within_days: number | null;
  compiled: string;
  created_at: number;
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
  person_id: number;
  email: string;
  name: string | null;
  attributes: string;
  status: RecipientRecord['status'];
  sent_at: number | null;
  error: string | null;
}

export interface VisitorRow {
  id: number;
  secret_hash: Buffer;
  person_id: number | null;
  identified_by: IdentifiedBy | null;
  recipient_id: number | null;
  link_id: number | null;
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
