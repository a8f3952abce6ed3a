import { IDENTITY_COOKIE, MAX_IDENTITY_CHARS, RETURN_TO_CONVERSATION_PARAM } from '../api/identity.ts';
import type { MessengerBootBody } from '../api/schemas.ts';
import type { ConversationMessage } from '../api/types.ts';
import { HttpError, isFinal, isOriginRefused, MessengerApi } from './api.ts';
import { LiveStream } from './live.ts';
import { Persist } from './persist.ts';
import {
  acknowledge,
  addMessage,
  adoptConversation,
  currentConversation,
  initialState,
  lastMessageId,
  mergeConversations,
  type HeldConversation,
  type WidgetState,
} from './state.ts';

export type VerifiedUser = NonNullable<MessengerBootBody['user']>;

/**
 * The identity cookie's value. Any site on the cookie's domain can set a cookie of that name,
 * so a value that isn't valid percent-encoding, or is longer than boot takes, is no cookie:
 * it is skipped (another cookie of the name may follow) rather than stopping the boot.
 */
function readIdentityCookie(): string | undefined {
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name !== IDENTITY_COOKIE) continue;
    let value: string;
    try {
      value = decodeURIComponent(rest.join('='));
    } catch {
      continue;
    }
    if (value && value.length <= MAX_IDENTITY_CHARS) return value;
  }
  return undefined;
}

/**
 * The conversation a reply email's link brought the visitor back for, taken out of the address
 * bar (a reload, a bookmark or a copied link shouldn't carry it).
 */
function takeReturnTo(): number | null {
  const url = new URL(location.href);
  const value = url.searchParams.get(RETURN_TO_CONVERSATION_PARAM);
  if (value === null) return null;
  url.searchParams.delete(RETURN_TO_CONVERSATION_PARAM);
  history.replaceState(history.state, '', url.href);
  return /^[1-9][0-9]{0,15}$/.test(value) ? Number(value) : null;
}

const randomId = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

/** The widget's behaviour: boot, send through the outbox, receive live, track. The UI only renders `state`. */
export class Messenger {
  state: WidgetState = initialState;
  private readonly listeners = new Set<() => void>();
  private readonly api: MessengerApi;
  private readonly persist: Persist;
  private user: VerifiedUser | undefined;
  private streamToken = '';
  private live: LiveStream | null = null;
  private flushing = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private bootRetry: ReturnType<typeof setTimeout> | undefined;
  private retryMs = 1000;
  private toldRefused = false;
  private returnTo = takeReturnTo();
  /** How far the server knows the visitor has seen each conversation. */
  private readonly toldSeen = new Map<number, number>();
  private telling = false;
  private tellAgain = false;

  constructor(server: string) {
    this.api = new MessengerApi(server);
    this.persist = new Persist(server);
    addEventListener('online', () => void this.flush());
    document.addEventListener('visibilitychange', () => this.markSeen());
  }

  /** The visitor can see the thread: the panel is open and the tab is showing. */
  private get watching(): boolean {
    return this.state.open && document.visibilityState === 'visible';
  }

  /** Team replies the visitor hasn't seen yet: counted on the launcher (and the hidden tab's title). */
  private markUnread(messages: readonly ConversationMessage[]): void {
    if (this.watching) return;
    const ids = messages.filter((m) => m.author === 'team' && !this.state.unread.includes(m.id)).map((m) => m.id);
    if (!ids.length) return;
    this.set({ unread: [...this.state.unread, ...ids].slice(-99) });
    void this.persist.set('unread', this.state.unread);
  }

  private markSeen(): void {
    if (!this.watching) return;
    if (this.state.unread.length) {
      this.set({ unread: [] });
      void this.persist.set('unread', []);
    }
    void this.tellSeen();
  }

  /**
   * Tells the server how far the visitor has seen the thread in front of them, so the replies
   * they saw are never mailed to them: at most a call a second (a live thread can bring many
   * replies a second), each with the latest message.
   */
  private async tellSeen(): Promise<void> {
    if (this.telling) {
      this.tellAgain = true;
      return;
    }
    const shown = this.state.view === 'thread' ? currentConversation(this.state) : null;
    const through = shown?.messages.at(-1)?.id ?? 0;
    if (!shown || !this.api.session || through <= (this.toldSeen.get(shown.id) ?? 0)) return;
    this.telling = true;
    try {
      await this.api.seen(shown.id, through);
      this.toldSeen.set(shown.id, through);
    } catch {
      // Told again with the next reply, page or opening of the panel.
    }
    setTimeout(() => {
      this.telling = false;
      if (this.tellAgain) {
        this.tellAgain = false;
        if (this.watching) void this.tellSeen();
      }
    }, 1000);
  }

  /** Opens the panel on the conversation a reply email's link named, when this browser has it. */
  private openReturnTo(): void {
    const id = this.returnTo;
    if (id === null) return;
    this.returnTo = null;
    const here = this.state.conversations.some((c) => c.id === id);
    this.set(here ? { open: true, view: 'thread', currentId: id } : { open: true, linkedElsewhere: true });
    if (here) this.saveCurrent();
    this.markSeen();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<WidgetState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  private savePending(): void {
    void this.persist.set('pending', this.state.pending);
  }

  private saveCurrent(): void {
    void this.persist.set('currentId', this.state.currentId);
  }

  /** Writes only what is new: a message costs one record, however long its thread. */
  private saveNew(created: readonly HeldConversation[], added: readonly ConversationMessage[]): void {
    void this.persist.add(created, added);
  }

  /** Boots (again), with a verified user when given; shows what IndexedDB kept right away. */
  async boot(user?: VerifiedUser): Promise<void> {
    clearTimeout(this.bootRetry);
    if (user) this.user = user;
    if (!this.state.booted) {
      const [pending, kept, currentId, unread] = await Promise.all([
        this.persist.get('pending'),
        this.persist.conversations(),
        this.persist.get('currentId'),
        this.persist.get('unread'),
      ]);
      const { conversations } = mergeConversations([], kept);
      this.set({ pending: pending ?? [], conversations, currentId: currentId ?? null, unread: unread ?? [] });
    }
    try {
      await this.connect();
    } catch (err) {
      // The server is unreachable or refusing: what IndexedDB kept stays shown, the panel says
      // so (never a silent "Sending…"); try again later.
      if (isOriginRefused(err)) {
        if (!this.toldRefused) console.error(`[clicktrail] the messenger is off on this page: ${(err as Error).message}`);
        this.toldRefused = true;
        this.set({ unavailable: true });
      } else {
        this.set(err instanceof HttpError ? { online: true, busy: true } : { online: false });
      }
      this.bootRetry = setTimeout(() => void this.boot().catch(() => {}), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 30_000);
      this.openReturnTo();
      throw err;
    }
    this.openReturnTo();
    this.markSeen();
    void this.flush();
    // A new identity changes what the visitor may see: the stream must be reopened with it.
    if (this.live && user) {
      this.live.stop();
      this.live = null;
    }
    if (!this.live) {
      this.live = new LiveStream(
        async () => {
          if (!this.streamToken) await this.connect();
          const url = this.api.streamUrl(this.streamToken, lastMessageId(this.state.conversations));
          this.streamToken = ''; // single use: a later reconnect boots for a fresh one
          return url;
        },
        (m) => void this.received(m),
      );
      void this.live.start();
    }
  }

  private async connect(): Promise<void> {
    this.api.session ??= (await this.persist.get('session')) ?? null;
    const body: MessengerBootBody = { url: location.href };
    if (document.referrer) body.referrer = document.referrer;
    if (this.api.session) body.session = this.api.session;
    const identity = readIdentityCookie();
    if (identity) body.identity = identity;
    if (this.user) body.user = this.user;
    let result;
    try {
      result = await this.api.boot(body);
    } catch (err) {
      if (!(err instanceof HttpError && err.status === 403 && this.user) || isOriginRefused(err)) throw err;
      // A wrong userHash: say so to the developer, and go on as whoever else the visitor is.
      console.error(`[clicktrail] identify refused: ${err.message}`);
      this.user = undefined;
      delete body.user;
      result = await this.api.boot(body);
    }
    if (result.session) {
      this.api.session = result.session;
      await this.persist.set('session', result.session);
    }
    this.streamToken = result.streamToken;
    // Conversations kept locally but no longer visible (e.g. a verified user signed out) go.
    const visible = new Set(result.conversations.map((c) => c.id));
    const known = this.state.conversations.filter((c) => visible.has(c.id));
    const gone = this.state.conversations.filter((c) => !visible.has(c.id)).map((c) => c.id);
    const knownIds = new Set(known.map((c) => c.id));
    const { conversations, added, created } = mergeConversations(known, result.conversations);
    // Replies that came while the visitor was away, in conversations this browser had (a
    // conversation new to it, e.g. a verified user's from another browser, is history, not news).
    const whileAway = added.filter((m) => knownIds.has(m.conversationId));
    const currentId = conversations.some((c) => c.id === this.state.currentId)
      ? this.state.currentId
      : (conversations[0]?.id ?? null);
    // A second boot on the same page (identify) brings none of the cards again: keep the ones shown.
    const inApp = [...this.state.inApp, ...result.inApp.filter((card) => !this.state.inApp.some((c) => c.messageId === card.messageId))];
    const emailForReplies = result.askEmailForReplies ? 'ask' : this.state.emailForReplies === 'given' ? 'given' : null;
    this.set({ booted: true, online: true, unavailable: false, busy: false, greeting: result.greeting, intro: result.intro, conversations, currentId, inApp, emailForReplies });
    void this.persist.forget(gone);
    this.saveNew(created, added);
    this.saveCurrent();
    this.markUnread(whileAway);
  }

  private async received(m: ConversationMessage): Promise<void> {
    const updated = addMessage(this.state.conversations, m);
    if (updated) {
      if (updated.added) {
        this.set({ conversations: updated.conversations });
        this.saveNew([], [m]);
        this.markUnread([m]);
        this.markSeen();
      }
      return;
    }
    const conversation = await this.api.conversation(m.conversationId).catch(() => null);
    if (!conversation) return;
    const { conversations, added, created } = mergeConversations(this.state.conversations, [conversation]);
    this.set({ conversations });
    this.saveNew(created, added);
    this.markUnread(added.filter((a) => a.id === m.id));
    this.markSeen();
  }

  /** Queues a message (kept in IndexedDB) and sends what is waiting. */
  send(body: string): void {
    const text = body.trim();
    if (!text) return;
    const pending = [
      ...this.state.pending,
      { clientId: randomId(), conversationId: this.state.currentId, body: text, at: new Date().toISOString() },
    ];
    this.set({ pending, view: 'thread' });
    this.savePending();
    void this.flush();
  }

  /** Sends the outbox in order, one at a time; stops at the first network failure and retries later. */
  private async flush(): Promise<void> {
    if (this.flushing || !this.api.session) return;
    this.flushing = true;
    clearTimeout(this.retryTimer);
    try {
      for (let next = this.nextToSend(); next; next = this.nextToSend()) {
        try {
          if (next.conversationId === null) {
            const started = await this.api.start({ body: next.body, clientId: next.clientId, pageUrl: location.href });
            const { conversations, added, created } = mergeConversations(this.state.conversations, [started]);
            this.set({
              conversations,
              pending: adoptConversation(acknowledge(this.state.pending, next.clientId), started.id),
              currentId: this.state.currentId === null ? started.id : this.state.currentId,
            });
            this.saveNew(created, added);
            this.saveCurrent();
          } else {
            const message = await this.api.send(next.conversationId, { body: next.body, clientId: next.clientId });
            // The live stream may have brought it first.
            const updated = addMessage(this.state.conversations, message);
            this.set({
              conversations: updated?.conversations ?? this.state.conversations,
              pending: acknowledge(this.state.pending, next.clientId),
            });
            if (updated?.added) this.saveNew([], [message]);
          }
          this.set({ online: true, busy: false });
          this.retryMs = 1000;
        } catch (err) {
          if (!isFinal(err)) {
            if (err instanceof HttpError && err.status === 401) await this.connect().catch(() => {});
            // 401: the session is renewed above and the send tried again, nothing to show.
            this.set(err instanceof HttpError ? { online: true, busy: err.status !== 401 } : { online: false });
            this.retryTimer = setTimeout(() => void this.flush(), this.retryMs);
            this.retryMs = Math.min(this.retryMs * 2, 30_000);
            return;
          }
          const clientId = next.clientId;
          const error = (err as Error).message;
          // A refusal is an answer: the network is there.
          this.set({ online: true, busy: false, pending: this.state.pending.map((p) => (p.clientId === clientId ? { ...p, error } : p)) });
        } finally {
          this.savePending();
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private nextToSend() {
    return this.state.pending.find((p) => !p.error);
  }

  /** Drops a message the server refused for good. */
  discard(clientId: string): void {
    this.set({ pending: acknowledge(this.state.pending, clientId) });
    this.savePending();
  }

  async track(name: string): Promise<void> {
    await this.api.track(name).catch((err) => console.error(`[clicktrail] track "${name}" failed: ${err.message}`));
  }

  /** A single-page site moved to another page. */
  async page(): Promise<void> {
    await this.api.visit(location.href, document.referrer || undefined).catch(() => {});
  }

  /** Forgets this browser's session (the site's sign-out): the next visitor starts fresh. */
  async shutdown(): Promise<void> {
    this.user = undefined;
    this.api.session = null;
    this.live?.stop();
    this.live = null;
    await this.persist.clear();
    this.set({ ...initialState, open: this.state.open });
    await this.boot();
  }

  /** Leaves an address for the replies the visitor may miss: resolves with why it was refused, or null once kept. */
  async giveEmail(email: string): Promise<string | null> {
    try {
      await this.api.contactEmail(email.trim());
      this.set({ emailForReplies: 'given' });
      return null;
    } catch (err) {
      // The server's 400 says what is wrong for a developer; the visitor gets it in a sentence.
      return err instanceof HttpError && err.status === 400 ? "That doesn't look like an email address." : "Couldn't keep it just now: try again.";
    }
  }

  /** The visitor closed an in-app card: gone from the page, and the team is told (best effort). */
  dismiss(messageId: number): void {
    const card = this.state.inApp.find((c) => c.messageId === messageId);
    if (!card) return;
    this.set({ inApp: this.state.inApp.filter((c) => c !== card) });
    void this.api.dismiss(card.dismissUrl).catch(() => {});
  }

  setOpen(open: boolean): void {
    // Opened for an unread reply: that reply's thread is the one shown.
    const newest = open ? this.state.unread.at(-1) : undefined;
    const withReply = newest === undefined ? undefined : this.state.conversations.find((c) => c.ids.has(newest));
    this.set(withReply ? { open, view: 'thread', currentId: withReply.id } : { open, ...(open ? {} : { linkedElsewhere: false }) });
    if (withReply) this.saveCurrent();
    this.markSeen();
  }

  show(view: WidgetState['view'], currentId: number | null = this.state.currentId): void {
    this.set({ view, currentId, linkedElsewhere: false });
    this.saveCurrent();
    this.markSeen();
  }
}
