import { describe, expect, it } from 'vitest';
import type { ConversationMessage, WidgetConversation } from '../../api/types.ts';
import {
  acknowledge,
  addMessage,
  adoptConversation,
  currentConversation,
  initialState,
  lastMessageId,
  mergeConversations,
  waitingMessages,
  type PendingMessage,
} from '../../widget/state.ts';

const msg = (id: number, conversationId: number, author: 'visitor' | 'team' = 'visitor', at = `2025-01-01T10:00:${String(id).padStart(2, '0')}Z`): ConversationMessage => ({
  id,
  conversationId,
  author,
  body: `m${id}`,
  at,
});
const conv = (id: number, messages: ConversationMessage[]): WidgetConversation => ({ id, startedAt: messages[0]?.at ?? '2025-01-01T00:00:00Z', messages });
const pending = (clientId: string, conversationId: number | null): PendingMessage => ({ clientId, conversationId, body: clientId, at: '2025-01-01T11:00:00Z' });
const held = (...conversations: WidgetConversation[]) => mergeConversations([], conversations).conversations;

describe('widget state', () => {
  it('merges conversations from the server without losing or doubling messages, newest activity first', () => {
    const known = held(conv(1, [msg(1, 1), msg(2, 1)]));
    const merged = mergeConversations(known, [conv(1, [msg(2, 1), msg(3, 1, 'team')]), conv(2, [msg(4, 2)])]);
    expect(merged.conversations.map((c) => c.id)).toEqual([2, 1]);
    expect(merged.conversations[1]!.messages.map((m) => m.id)).toEqual([1, 2, 3]);
    // What is new, to keep: the unknown conversation and the two messages not seen before.
    expect(merged.created.map((c) => c.id)).toEqual([2]);
    expect(merged.added.map((m) => m.id)).toEqual([3, 4]);
    const again = mergeConversations(merged.conversations, [conv(1, [msg(1, 1), msg(3, 1, 'team')]), conv(2, [msg(4, 2)])]);
    expect(again.added).toEqual([]);
    expect(again.conversations.map((c) => c.messages.map((m) => m.id))).toEqual([[4], [1, 2, 3]]);
  });

  it('puts a message that arrives out of order in its place, and says so for the views', () => {
    const known = held(conv(1, [msg(1, 1), msg(5, 1)]));
    const merged = mergeConversations(known, [conv(1, [msg(3, 1), msg(7, 1)])]);
    expect(merged.conversations[0]!.messages.map((m) => m.id)).toEqual([1, 3, 5, 7]);
    expect(merged.conversations[0]!.reorders).toBe(known[0]!.reorders + 1);
  });

  it('adds a live message once, at the end of the same array, and asks for an unknown conversation to be fetched', () => {
    const known = held(conv(1, [msg(1, 1)]));
    const once = addMessage(known, msg(5, 1, 'team'))!;
    expect(once.added).toBe(true);
    expect(once.conversations[0]!.messages.map((m) => m.id)).toEqual([1, 5]);
    // Appended in place, not copied: a message costs the same however long the thread.
    expect(once.conversations[0]!.messages).toBe(known[0]!.messages);
    expect(once.conversations[0]).not.toBe(known[0]);
    expect(once.conversations[0]!.reorders).toBe(0);
    const twice = addMessage(once.conversations, msg(5, 1, 'team'))!;
    expect(twice.added).toBe(false);
    expect(twice.conversations[0]!.messages.map((m) => m.id)).toEqual([1, 5]);
    expect(addMessage(known, msg(6, 9))).toBeNull();
  });

  it('moves the conversation with the newest message first', () => {
    const known = held(conv(1, [msg(1, 1)]), conv(2, [msg(2, 2)]));
    expect(known.map((c) => c.id)).toEqual([2, 1]);
    expect(addMessage(known, msg(3, 1))!.conversations.map((c) => c.id)).toEqual([1, 2]);
  });

  it('moves messages typed into a new conversation into it once the server made it', () => {
    const outbox = [pending('a', null), pending('b', null), pending('c', 7)];
    const after = adoptConversation(acknowledge(outbox, 'a'), 12);
    expect(after.map((p) => [p.clientId, p.conversationId])).toEqual([
      ['b', 12],
      ['c', 7],
    ]);
  });

  it('shows the open thread as its messages followed by what is still being sent or was refused', () => {
    const state = {
      ...initialState,
      conversations: held(conv(1, [msg(1, 1), msg(2, 1, 'team')]), conv(2, [msg(3, 2)])),
      currentId: 1,
      pending: [pending('x', 1), { ...pending('y', 1), error: 'body: too long' }, pending('z', 2)],
    };
    expect(currentConversation(state)!.messages.map((m) => [m.id, m.author])).toEqual([
      [1, 'visitor'],
      [2, 'team'],
    ]);
    expect(waitingMessages(state).map((p) => [p.clientId, p.error ?? null])).toEqual([
      ['x', null],
      ['y', 'body: too long'],
    ]);
    const fresh = { ...state, currentId: null, pending: [pending('n', null)] };
    expect(currentConversation(fresh)).toBeNull();
    expect(waitingMessages(fresh).map((p) => p.clientId)).toEqual(['n']);
    expect(lastMessageId(state.conversations)).toBe(3);
  });
});
