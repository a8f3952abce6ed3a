import type { ConversationMessage, WidgetConversation } from '../../api/types.ts';
import { channels } from './hub.ts';
import type { Messenger } from './messenger.ts';
import type { ConversationHead, StoredConversation } from '../store/store.ts';

/** What the visitor's browser may see of a conversation. */
export function toWidget(c: StoredConversation): WidgetConversation {
  return { id: c.id, startedAt: c.startedAt, messages: c.messages };
}

/** Wakes the streams of every browser that may see the conversation. */
export function notifyConversation(m: Messenger, c: ConversationHead): void {
  m.hub.notify(channels.visitor(c.visitorId));
  if (c.identifiedBy === 'verified' && c.person) m.hub.notify(channels.verifiedPerson(c.person.id));
}

/** A message was added: its readers are woken and the team is told. */
export async function messageAdded(m: Messenger, c: ConversationHead, message: ConversationMessage): Promise<void> {
  notifyConversation(m, c);
  await m.events.publish({ type: 'conversation.message', at: message.at, conversationId: c.id, person: c.person, message });
}

export async function conversationStarted(m: Messenger, c: StoredConversation): Promise<void> {
  notifyConversation(m, c);
  const { messages, visitorId, ...summary } = c;
  await m.events.publish({ type: 'conversation.created', at: c.startedAt, conversation: summary });
}
