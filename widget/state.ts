import type { ConversationMessage, WidgetConversation } from '../api/types.ts';

/**
 * The widget's state and the pure rules that change it: kept apart from the DOM, the
 * network and IndexedDB so they can be tested on their own.
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

export interface WidgetState {
  booted: boolean;
  open: boolean;
  view: 'thread' | 'list';
  greeting: string;
  intro: string;
  /** Newest activity first. */
  conversations: WidgetConversation[];
  /** The conversation shown; null: a new one. */
  currentId: number | null;
  pending: PendingMessage[];
  /** False while sends fail for want of a network. */
  online: boolean;
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
};

const lastActivity = (c: WidgetConversation) => c.messages.at(-1)?.at ?? c.startedAt;

function sortByActivity(list: WidgetConversation[]): WidgetConversation[] {
  return list.sort((a, b) => lastActivity(b).localeCompare(lastActivity(a)) || b.id - a.id);
}

function unionMessages(a: ConversationMessage[], b: ConversationMessage[]): ConversationMessage[] {
  const byId = new Map(a.map((m) => [m.id, m]));
  for (const m of b) byId.set(m.id, m);
  return [...byId.values()].sort((x, y) => x.id - y.id);
}

/** Folds conversations from the server into what is known: nothing is lost, nothing doubled. */
export function mergeConversations(known: WidgetConversation[], incoming: WidgetConversation[]): WidgetConversation[] {
  const byId = new Map(known.map((c) => [c.id, c]));
  for (const c of incoming) {
    const old = byId.get(c.id);
    byId.set(c.id, old ? { ...c, messages: unionMessages(old.messages, c.messages) } : c);
  }
  return sortByActivity([...byId.values()]);
}

/** Adds one message to its conversation; null when the conversation isn't known yet (fetch it). */
export function addMessage(known: WidgetConversation[], m: ConversationMessage): WidgetConversation[] | null {
  const target = known.find((c) => c.id === m.conversationId);
  if (!target) return null;
  return mergeConversations(known, [{ ...target, messages: [m] }]);
}

/** The server took a pending message. */
export function acknowledge(pending: PendingMessage[], clientId: string): PendingMessage[] {
  return pending.filter((p) => p.clientId !== clientId);
}

/** A new conversation now exists: the messages typed into it while it was being made belong to it. */
export function adoptConversation(pending: PendingMessage[], conversationId: number): PendingMessage[] {
  return pending.map((p) => (p.conversationId === null ? { ...p, conversationId } : p));
}

export interface ThreadItem {
  key: string;
  author: 'visitor' | 'team';
  body: string;
  at: string;
  status: 'sent' | 'sending' | 'failed';
  error?: string;
}

/** What the open thread shows: the conversation's messages, then what is still on its way. */
export function threadItems(state: WidgetState): ThreadItem[] {
  const conversation = state.conversations.find((c) => c.id === state.currentId);
  const sent: ThreadItem[] = (conversation?.messages ?? []).map((m) => ({
    key: `m${m.id}`,
    author: m.author,
    body: m.body,
    at: m.at,
    status: 'sent',
  }));
  const waiting: ThreadItem[] = state.pending
    .filter((p) => p.conversationId === state.currentId)
    .map((p) => ({
      key: `p${p.clientId}`,
      author: 'visitor',
      body: p.body,
      at: p.at,
      status: p.error ? 'failed' : 'sending',
      ...(p.error ? { error: p.error } : {}),
    }));
  return [...sent, ...waiting];
}

/** The id a (re)opened live stream should resume after. */
export function lastMessageId(conversations: WidgetConversation[]): number {
  let max = 0;
  for (const c of conversations) for (const m of c.messages) max = Math.max(max, m.id);
  return max;
}
