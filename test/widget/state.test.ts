import { describe, expect, it } from 'vitest';
import type { ConversationMessage, WidgetConversation } from '../../api/types.ts';
import {
  acknowledge,
  addMessage,
  adoptConversation,
  initialState,
  lastMessageId,
  mergeConversations,
  threadItems,
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

describe('widget state', () => {
  it('merges conversations from the server without losing or doubling messages, newest activity first', () => {
    const known = [conv(1, [msg(1, 1), msg(2, 1)])];
    const merged = mergeConversations(known, [conv(1, [msg(2, 1), msg(3, 1, 'team')]), conv(2, [msg(4, 2)])]);
    expect(merged.map((c) => c.id)).toEqual([2, 1]);
    expect(merged[1]!.messages.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(mergeConversations(merged, merged)).toEqual(merged);
  });

  it('adds a live message once, and asks for an unknown conversation to be fetched', () => {
    const known = [conv(1, [msg(1, 1)])];
    const once = addMessage(known, msg(5, 1, 'team'))!;
    expect(addMessage(once, msg(5, 1, 'team'))).toEqual(once);
    expect(once[0]!.messages.map((m) => m.id)).toEqual([1, 5]);
    expect(addMessage(known, msg(6, 9))).toBeNull();
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
      conversations: [conv(1, [msg(1, 1), msg(2, 1, 'team')]), conv(2, [msg(3, 2)])],
      currentId: 1,
      pending: [pending('x', 1), { ...pending('y', 1), error: 'body: too long' }, pending('z', 2)],
    };
    expect(threadItems(state).map((i) => [i.key, i.author, i.status])).toEqual([
      ['m1', 'visitor', 'sent'],
      ['m2', 'team', 'sent'],
      ['px', 'visitor', 'sending'],
      ['py', 'visitor', 'failed'],
    ]);
    expect(threadItems({ ...state, currentId: null, pending: [pending('n', null)] }).map((i) => i.key)).toEqual(['pn']);
    expect(lastMessageId(state.conversations)).toBe(3);
  });
});
