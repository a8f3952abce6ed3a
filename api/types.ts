/**
 * The HTTP API contract, version 1: the one definition of what the server answers,
 * imported by the server, the widget and the extension. Request bodies are validated by
 * the zod schemas in ./schemas.ts, whose inferred types are re-exported here.
 */
export type {
  CreateMessageBody,
  AddRecipientsBody,
  SettingsPatch,
} from './schemas.ts';

export type Channel = 'email' | 'in_app' | 'push';

export interface ApiError {
  error: string;
}

export interface LinkPlacement {
  id: number;
  url: string;
  /** 0-based order among the message's links (HTML anchors first, then text-only URLs). */
  position: number;
  text: string;
  tracked: boolean;
  /** Why an untracked link was left alone. */
  reason?: 'not-http' | 'opt-out' | 'universal-link' | 'tracking-off';
  part: 'html' | 'text';
}

export interface Goal {
  event: string;
  withinDays: number;
}

export interface MessageCreated {
  id: number;
  links: LinkPlacement[];
}

export interface Message {
  id: number;
  subject: string;
  html: string;
  text: string | null;
  channel: Channel;
  goal: Goal | null;
  createdAt: string;
  links: LinkPlacement[];
}

export interface Counts {
  total: number;
  unique: number;
  bot: number;
}

export interface MessageSummary {
  id: number;
  subject: string;
  channel: Channel;
  createdAt: string;
  recipients: number;
  sent: number;
  opens: Counts;
  clicks: Counts;
}

export interface RecipientsAdded {
  added: number;
  updated: number;
}

export interface SendResult {
  sent: number;
  failed: number;
  failures: { email: string; error: string }[];
}

export interface Settings {
  clickTracking: boolean;
  leadEmailIdentification: boolean;
  universalLinkDomains: string[];
  /** How long after sending a click may identify its recipient. */
  identificationWindowDays: number;
  /** Lifetime of the identity cookie. */
  identityCookieDays: number;
  /** A click this soon after delivery is taken for a mail scanner. */
  scannerWindowSeconds: number;
}
