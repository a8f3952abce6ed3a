import type { MessengerBootBody } from '../api/schemas.ts';
import type { ConversationMessage, EventRecorded, MessengerBootResult, OriginRefused, VisitorSession, WidgetConversation } from '../api/types.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown = null,
  ) {
    super(message);
  }
}

/** The server refuses this page's origin (settings.allowedOrigins): nothing works here until the setting changes. */
export const isOriginRefused = (e: unknown): boolean =>
  e instanceof HttpError && e.status === 403 && (e.body as Partial<OriginRefused> | null)?.setting === 'allowedOrigins';

/** A refusal that retrying won't change (bad input), as opposed to a network, server or rate-limit hiccup. */
export const isFinal = (e: unknown) => e instanceof HttpError && e.status >= 400 && e.status < 500 && e.status !== 401 && e.status !== 429;

/** The server's /messenger routes. */
export class MessengerApi {
  session: VisitorSession | null = null;

  constructor(readonly base: string) {}

  /** `path` under the server, or a whole URL the server handed out (an in-app card's dismissUrl). */
  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.session) headers.authorization = `Bearer ${this.session.id}.${this.session.secret}`;
    const res = await fetch(path.startsWith('/') ? this.base + path : path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      credentials: 'omit',
    });
    if (res.status === 204) return undefined as T;
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new HttpError(res.status, (data as { error?: string }).error ?? `HTTP ${res.status}`, data);
    return data as T;
  }

  boot = (body: MessengerBootBody) => this.call<MessengerBootResult>('POST', '/messenger/boot', body);
  start = (body: { body: string; clientId: string; pageUrl?: string }) => this.call<WidgetConversation>('POST', '/messenger/conversations', body);
  send = (conversationId: number, body: { body: string; clientId: string }) =>
    this.call<ConversationMessage>('POST', `/messenger/conversations/${conversationId}/messages`, body);
  conversation = (id: number) => this.call<WidgetConversation>('GET', `/messenger/conversations/${id}`);
  track = (name: string) => this.call<EventRecorded>('POST', '/messenger/events', { name });
  dismiss = (dismissUrl: string) => this.call<void>('POST', dismissUrl);
  visit = (url: string, referrer?: string) => this.call<void>('POST', '/messenger/visits', { url, ...(referrer ? { referrer } : {}) });
  seen = (conversationId: number, through: number) => this.call<void>('POST', `/messenger/conversations/${conversationId}/seen`, { through });
  contactEmail = (email: string) => this.call<void>('POST', '/messenger/contact-email', { email });
  streamUrl = (token: string, after: number) => `${this.base}/messenger/stream?token=${encodeURIComponent(token)}&after=${after}`;
}
