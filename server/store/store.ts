import type { Channel, Goal, LinkPlacement, Settings } from '../../api/types.ts';
import type { CompiledMessage } from '../rewrite/template.ts';

/**
 * The storage interface the routes use. Narrow on purpose, and asynchronous, so a
 * PostgreSQL store can stand in for the SQLite one without touching a route.
 */

export interface MessageRecord {
  id: number;
  subject: string;
  html: string;
  text: string | null;
  channel: Channel;
  goal: Goal | null;
  compiled: CompiledMessage;
  createdAt: number;
  /** In the order of compiled.links. */
  links: LinkPlacement[];
  /** The hidden link added to every email that no person sees: a hit on it is a machine's. */
  honeypotLinkId: number | null;
}

export interface NewMessage {
  subject: string;
  html: string;
  text: string | null;
  channel: Channel;
  goal: Goal | null;
  compiled: CompiledMessage;
}

export interface NewRecipient {
  email: string;
  name?: string | undefined;
  attributes?: Record<string, string | number | boolean | null> | undefined;
}

export type DeliveryStatus = 'pending' | 'sending' | 'sent' | 'failed';

export interface RecipientRecord {
  id: number;
  messageId: number;
  personId: number;
  email: string;
  name: string | null;
  attributes: Record<string, string | number | boolean | null>;
  status: DeliveryStatus;
  sentAt: number | null;
  error: string | null;
}

export interface Store {
  getSettings(): Promise<Settings>;
  updateSettings(patch: Partial<Settings>): Promise<Settings>;

  createMessage(message: NewMessage): Promise<MessageRecord>;
  getMessage(id: number): Promise<MessageRecord | null>;
  /** Newest first. */
  listMessages(limit: number): Promise<MessageRecord[]>;

  /** Adds people to a message; someone already on it gets their name and attributes updated. */
  addRecipients(messageId: number, recipients: NewRecipient[]): Promise<{ added: number; updated: number }>;
  getRecipient(id: number): Promise<RecipientRecord | null>;
  findRecipient(messageId: number, email: string): Promise<RecipientRecord | null>;
  countRecipients(messageId: number): Promise<{ recipients: number; sent: number }>;

  /** Marks the message's unsent recipients as being sent and returns them; a concurrent call gets none of them. */
  claimUnsent(messageId: number): Promise<RecipientRecord[]>;
  recordDelivery(recipientId: number, outcome: { ok: true; at: number } | { ok: false; error: string }): Promise<void>;

  close(): Promise<void>;
}

export const DEFAULT_SETTINGS: Settings = {
  clickTracking: true,
  leadEmailIdentification: true,
  universalLinkDomains: [],
  mergeTagHosts: [],
  scannerNetworks: [],
  identificationWindowDays: 7,
  identityCookieDays: 30,
  scannerWindowSeconds: 10,
  earlyWindowSeconds: 60,
  // The honeypot's minute, and time for the writer to bring the hits after the click in.
  identificationDelaySeconds: 65,
  messengerGreeting: 'Hi {{first_name | there}} 👋',
  messengerIntro: 'Ask us anything: we usually answer within a few minutes.',
  allowedOrigins: [],
  webhookUrl: null,
  // Made by migration 3; empty only in a database that never ran it, where nothing verifies.
  webhookSecret: '',
  identitySecret: '',
};
