import type { ConversationMessage, InAppCard, WidgetConversation } from '../api/types.ts';

/**
 * The widget's state and the rules that change it: kept apart from the DOM, the network and
 * IndexedDB so they can be tested on their own.
 *
 * A live thread can grow to thousands of messages, and each one must cost the same however
 * many came before: a conversation's messages are appended to in place (never copied,
 * sorted or scanned per message), with a Set of their ids to drop one heard twice.
 */

/** A message typed but not yet acknowledged by the server (kept in IndexedDB). */
export interface PendingMessage {
  clientId: string;
  /** null: it starts a new conversation. */
  conversationId: number | null;
  body: string;
  at: string;
  /** Set when the server refused it for good (e.g. too long): shown, not retried. */
  error?: string;
}

/** A conversation as the widget holds it. Replaced by a shallow copy whenever it changes. */
export interface HeldConversation {
  readonly id: number;
  readonly startedAt: string;
  /** In id order; appended to in place and shared by the copies. */
  readonly messages: ConversationMessage[];
  /** The ids in `messages`. */
  readonly ids: Set<number>;
  /** Counts the times a message landed anywhere but at the end, so a view drawn in pieces redraws them all. */
  readonly reorders: number;
}

export interface WidgetState {
  booted: boolean;
  open: boolean;
  view: 'thread' | 'list';
  greeting: string;
  intro: string;
  /** Newest activity first. */
  conversations: HeldConversation[];
  /** The conversation shown; null: a new one. */
  currentId: number | null;
  pending: PendingMessage[];
  /** False while sends (or the boot) fail for want of a network. */
  online: boolean;
  /** Ids of team replies that came while the panel was closed or the tab hidden: the launcher's badge. */
  unread: number[];
  /** The server refuses this page's origin (settings.allowedOrigins): the chat can't work here until that changes. */
  unavailable: boolean;
  /**
   * The server answered but turned the widget away for now (too many new visitors from this
   * address, a limit on messages, its own error): what it asked is tried again later.
   */
  busy: boolean;
  /**
   * In-app messages shown on this page load, until closed. Never kept: the server counts a card
   * shown when it hands it out, and hands it out once.
   */
  inApp: InAppCard[];
  /**
   * The address field for the replies an anonymous visitor may miss: offered (shown once their
   * message has waited a minute), given in this page, or neither.
   */
  emailForReplies: 'ask' | 'given' | null;
  /** A reply email's link brought the visitor here for a conversation this browser doesn't have. */
  linkedElsewhere: boolean;
}

export const initialState: WidgetState = {
  booted: false,
  open: false,
  view: 'thread',
  greeting: '',
  intro: '',
  conversations: [],
  currentId: null,
  pending: [],
  online: true,
  unavailable: false,
  busy: false,
  unread: [],
  inApp: [],
  emailForReplies: null,
  linkedElsewhere: false,
};

const lastActivity = (c: HeldConversation) => c.messages.at(-1)?.at ?? c.startedAt;
const byActivity = (a: HeldConversation, b: HeldConversation) => lastActivity(b).localeCompare(lastActivity(a)) || b.id - a.id;

/**
 * Adds the messages not yet in `c`, returning its new copy and the messages added. The
 * usual case, ids above the last one, is a push; anything else is sorted in once at the end.
 */
function addTo(c: HeldConversation, incoming: readonly ConversationMessage[]): { conversation: HeldConversation; added: ConversationMessage[] } {
  const added: ConversationMessage[] = [];
  let outOfOrder = false;
  for (const m of incoming) {
    if (c.ids.has(m.id)) continue;
    outOfOrder ||= c.messages.length > 0 && m.id < c.messages.at(-1)!.id;
    c.ids.add(m.id);
    c.messages.push(m);
    added.push(m);
  }
  if (added.length === 0) return { conversation: c, added };
  if (outOfOrder) c.messages.sort((x, y) => x.id - y.id);
  return { conversation: { ...c, reorders: c.reorders + (outOfOrder ? 1 : 0) }, added };
}

function held(c: WidgetConversation): HeldConversation {
  return { id: c.id, startedAt: c.startedAt, messages: [], ids: new Set(), reorders: 0 };
}

/** Folds conversations (from the server, or IndexedDB) into what is known: nothing lost, nothing doubled. */
export function mergeConversations(
  known: readonly HeldConversation[],
  incoming: readonly WidgetConversation[],
): { conversations: HeldConversation[]; added: ConversationMessage[]; created: HeldConversation[] } {
  const byId = new Map(known.map((c) => [c.id, c]));
  const added: ConversationMessage[] = [];
  const created: HeldConversation[] = [];
  for (const c of incoming) {
    let target = byId.get(c.id);
    if (!target) created.push((target = held(c)));
    const result = addTo(target, c.messages);
    byId.set(c.id, result.conversation);
    added.push(...result.added);
  }
  return { conversations: [...byId.values()].sort(byActivity), added, created };
}

/**
 * Adds one message to its conversation: `added` false when it was there already; null when
 * the conversation isn't known yet (fetch it). Costs the same however long the thread is
 * (the list of conversations is re-sorted, but that is only the visitor's conversations).
 */
export function addMessage(
  known: readonly HeldConversation[],
  m: ConversationMessage,
): { conversations: HeldConversation[]; added: boolean } | null {
  const index = known.findIndex((c) => c.id === m.conversationId);
  if (index < 0) return null;
  const { conversation, added } = addTo(known[index]!, [m]);
  if (added.length === 0) return { conversations: [...known], added: false };
  const conversations = [...known];
  conversations[index] = conversation;
  return { conversations: conversations.sort(byActivity), added: true };
}

/** The server took a pending message. */
export function acknowledge(pending: PendingMessage[], clientId: string): PendingMessage[] {
  return pending.filter((p) => p.clientId !== clientId);
}

/** A new conversation now exists: the messages typed into it while it was being made belong to it. */
export function adoptConversation(pending: PendingMessage[], conversationId: number): PendingMessage[] {
  return pending.map((p) => (p.conversationId === null ? { ...p, conversationId } : p));
}

export function currentConversation(state: WidgetState): HeldConversation | null {
  return state.conversations.find((c) => c.id === state.currentId) ?? null;
}

/** What the open thread shows after its messages: what is still on its way, or was refused. */
export function waitingMessages(state: WidgetState): PendingMessage[] {
  return state.pending.filter((p) => p.conversationId === state.currentId);
}

/** The id a (re)opened live stream should resume after. */
export function lastMessageId(conversations: readonly HeldConversation[]): number {
  let max = 0;
  for (const c of conversations) max = Math.max(max, c.messages.at(-1)?.id ?? 0);
  return max;
}
