import type {
  AddRecipientsBody,
  Conversation,
  ConversationMessage,
  ConversationSummary,
  CreateMessageBody,
  LinksResolved,
  Message,
  MessageCreated,
  MessageStats,
  MessageSummary,
  PatchMessageBody,
  PersonStats,
  LatestNotification,
  RecipientsAdded,
  SendResult,
  Settings,
  TeamEvent,
  TestSendBody,
  TestSent,
} from '../../api/types.ts';
import { loadServerSettings, type ServerSettings } from '../settings/server-settings.ts';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export class NotConfiguredError extends Error {
  constructor() {
    super('Set the server URL and token in the options first');
  }
}

/**
 * The server's API as the extension's pages and service worker call it (never a content
 * script: the token stays in extension pages).
 */
export async function request<T>(path: string, init: RequestInit = {}, server?: ServerSettings): Promise<T> {
  const res = await call(path, init, server);
  // DELETE answers with no body.
  const body = await res.text();
  return (body ? JSON.parse(body) : undefined) as T;
}

async function call(path: string, init: RequestInit, server?: ServerSettings): Promise<Response> {
  const settings = server ?? (await loadServerSettings());
  if (!settings) throw new NotConfiguredError();
  const res = await fetch(`${settings.url}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${settings.token}`,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: string } | null;
    throw new ApiError(body?.error ?? `${res.status} ${res.statusText}`, res.status);
  }
  return res;
}

const json = (method: string, body?: unknown): RequestInit => ({ method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

export const clicktrail = {
  settings: (server?: ServerSettings) => request<Settings>('/api/settings', {}, server),
  messages: (limit = 20) => request<MessageSummary[]>(`/api/messages?limit=${limit}`),
  message: (id: number) => request<Message>(`/api/messages/${id}`),
  stats: (id: number) => request<MessageStats>(`/api/messages/${id}/stats`),
  people: (id: number) => request<PersonStats[]>(`/api/messages/${id}/people`),
  resolveLinks: (urls: string[]) =>
    request<LinksResolved>('/api/links/resolve', { method: 'POST', body: JSON.stringify({ urls }) }),
  conversations: () => request<ConversationSummary[]>('/api/conversations'),
  conversation: (id: number) => request<Conversation>(`/api/conversations/${id}`),
  reply: (id: number, body: string) =>
    request<ConversationMessage>(`/api/conversations/${id}/replies`, { method: 'POST', body: JSON.stringify({ body }) }),
  notificationsAfter: (id: number, limit?: number) => request<TeamEvent[]>(`/api/notifications?after=${id}${limit ? `&limit=${limit}` : ''}`),
  latestNotificationId: () => request<LatestNotification>('/api/notifications/latest').then((r) => r.latestId),

  // Composing and sending (a draft until its first send; editing or deleting a sent one is a 409).
  createMessage: (body: CreateMessageBody) => request<MessageCreated>('/api/messages', json('POST', body)),
  updateMessage: (id: number, body: PatchMessageBody) => request<unknown>(`/api/messages/${id}`, json('PATCH', body)),
  deleteMessage: (id: number) => request<unknown>(`/api/messages/${id}`, json('DELETE')),
  addRecipients: (id: number, recipients: AddRecipientsBody['recipients']) =>
    request<RecipientsAdded>(`/api/messages/${id}/recipients`, json('POST', { recipients })),
  /** The mail exactly as `email` gets it (HTML). */
  preview: (id: number, email: string) => call(`/api/messages/${id}/preview?email=${encodeURIComponent(email)}`, {}).then((r) => r.text()),
  testSend: (id: number, body: TestSendBody) => request<TestSent>(`/api/messages/${id}/test`, json('POST', body)),
  /** Answers when every recipient has been tried: poll `message(id).delivery` meanwhile for progress. */
  send: (id: number) => request<SendResult>(`/api/messages/${id}/send`, json('POST')),
};
