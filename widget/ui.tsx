import { Component, type ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ConversationMessage, InAppCard } from '../api/types.ts';
import type { Messenger } from './messenger.ts';
import { currentConversation, waitingMessages, type PendingMessage } from './state.ts';
import { css } from './styles.ts';
import { followInTitle } from './title.ts';

const ChatIcon = () => (
  <svg viewBox="0 0 24 24" aria-hidden="true">
    <path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z" />
  </svg>
);
const CloseIcon = () => (
  <svg viewBox="0 0 24 24" aria-hidden="true">
    <path d="M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z" />
  </svg>
);
const SendIcon = () => (
  <svg viewBox="0 0 24 24" aria-hidden="true">
    <path d="M3 20.5 21 12 3 3.5v6.6l12 1.9-12 1.9z" />
  </svg>
);

// One formatter for every message: toLocaleTimeString builds a new one each call.
const clock = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit' });
const time = (iso: string) => clock.format(new Date(iso));

/**
 * A component drawn again only when one of its props changed, like preact/compat's memo
 * (compat itself would patch Preact's options for the whole widget).
 */
function memo<P extends object>(draw: (props: P) => ComponentChildren) {
  return class Memo extends Component<P> {
    override shouldComponentUpdate(next: P): boolean {
      const before = this.props as Record<string, unknown>;
      const after = next as Record<string, unknown>;
      for (const key in after) if (after[key] !== before[key]) return true;
      for (const key in before) if (!(key in after)) return true;
      return false;
    }

    override render(props: P): ComponentChildren {
      return draw(props);
    }
  };
}

function useMessengerState(m: Messenger) {
  const [state, setState] = useState(m.state);
  useEffect(() => {
    const unsubscribe = m.subscribe(() => setState(m.state));
    // A change between this render and now (the effect runs after paint: a boot answering just
    // as the panel opens) came before the subscription and would never be shown.
    setState(m.state);
    return unsubscribe;
  }, [m]);
  return state;
}

/** A message the server has: drawn once, however many arrive after it. */
const SentMessage = memo(({ message }: { message: ConversationMessage }) => {
  return (
    <div role="listitem" class={`msg ${message.author} sent`}>
      <span class="sr">{message.author === 'team' ? 'Team' : 'You'}: </span>
      {message.body}
      <span class="meta">{time(message.at)}</span>
    </div>
  );
});

function WaitingMessage({ pending, m }: { pending: PendingMessage; m: Messenger }) {
  const { online, unavailable, busy } = useMessengerState(m);
  const waiting = unavailable ? 'Not sent yet: chat unavailable' : !online ? 'Not sent yet: offline' : busy ? 'Not sent yet: chat busy' : 'Sending…';
  return (
    <div role="listitem" class={`msg visitor ${pending.error ? 'failed' : 'sending'}`}>
      <span class="sr">You: </span>
      {pending.body}
      <span class="meta">
        {pending.error ? `Not sent: ${pending.error}` : waiting}
        {pending.error && (
          <button type="button" class="link" onClick={() => m.discard(pending.clientId)}>
            Remove
          </button>
        )}
      </span>
    </div>
  );
}

/**
 * The thread is drawn in runs of this many messages, so that a new message costs the same
 * however long the thread is. A full run never changes: its props stay equal and Preact
 * skips it, and the browser skips laying it out (`.run` has content-visibility: auto), so
 * a new message redraws and lays out only the last run.
 */
const RUN = 50;

/** messages[from, to). The array is appended to in place: `to` (and `reorders`) tell a change. */
const MessageRun = memo((p: { messages: ConversationMessage[]; from: number; to: number; reorders: number }) => {
  const rows = [];
  for (let i = p.from; i < p.to; i++) rows.push(<SentMessage key={p.messages[i]!.id} message={p.messages[i]!} />);
  return <div class="run">{rows}</div>;
});

/** How long an anonymous visitor's message waits unanswered before the thread offers to send the answer by email. */
const ASK_EMAIL_AFTER_MS = 60_000;

/**
 * Under an anonymous visitor's message no one has answered for a minute: a field for an address
 * to get the answer at if they have left by then (MessengerBootResult.askEmailForReplies).
 */
function EmailForReplies({ m, waitingSince }: { m: Messenger; waitingSince: string }) {
  const { emailForReplies } = useMessengerState(m);
  const [due, setDue] = useState(false);
  const [email, setEmail] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    setDue(false);
    const timer = setTimeout(() => setDue(true), Date.parse(waitingSince) + ASK_EMAIL_AFTER_MS - Date.now());
    return () => clearTimeout(timer);
  }, [waitingSince]);
  useEffect(() => box.current?.scrollIntoView({ block: 'end' }), [due]);
  if (!due || !emailForReplies) return null;
  if (emailForReplies === 'given') {
    return (
      <p class="note" role="status">
        Thanks: if you've left when we answer, the reply goes to your email.
      </p>
    );
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(await m.giveEmail(email));
    setBusy(false);
  };
  return (
    <div ref={box}>
      <form class="ask-email" onSubmit={submit} noValidate>
        <label for="ct-email">Not here when we answer? Leave your email and we'll send the reply there.</label>
        <div class="row">
          <input
            id="ct-email"
            type="email"
            autoComplete="email"
            placeholder="you@example.com"
            maxLength={320}
            value={email}
            aria-invalid={error ? 'true' : undefined}
            aria-describedby={error ? 'ct-email-error' : undefined}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
          <button type="submit" disabled={busy || !email.trim()}>
            Email me
          </button>
        </div>
        {error && (
          <p id="ct-email-error" class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </div>
  );
}

/** When the visitor's messages since the team's last reply began (null: the team spoke last); looks back a run at most. */
function unansweredSince(messages: ConversationMessage[]): string | null {
  let since: string | null = null;
  for (let i = messages.length - 1; i >= Math.max(0, messages.length - RUN) && messages[i]!.author === 'visitor'; i--) since = messages[i]!.at;
  return since;
}

function Thread({ m }: { m: Messenger }) {
  const state = useMessengerState(m);
  const conversation = currentConversation(state);
  const messages = conversation?.messages ?? [];
  const waiting = waitingMessages(state);
  const count = messages.length + waiting.length;
  const unanswered = waiting.length === 0 ? unansweredSince(messages) : null;
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => end.current?.scrollIntoView({ block: 'end' }), [count]);
  const runs = [];
  for (let from = 0; from < messages.length; from += RUN) {
    runs.push(
      <MessageRun
        key={`${conversation!.id}:${from}`}
        messages={messages}
        from={from}
        to={Math.min(from + RUN, messages.length)}
        reorders={conversation!.reorders}
      />,
    );
  }
  return (
    <div class={count === 0 ? 'thread is-empty' : 'thread'} role="log" aria-live="polite" aria-label="Conversation">
      {count === 0 ? (
        <p class="empty">Send us a message and we'll answer right here.</p>
      ) : (
        <div role="list">
          {runs}
          {waiting.map((p) => (
            <WaitingMessage key={`p${p.clientId}`} pending={p} m={m} />
          ))}
        </div>
      )}
      {unanswered && <EmailForReplies key={conversation!.id} m={m} waitingSince={unanswered} />}
      <div ref={end} aria-hidden="true" />
    </div>
  );
}

function Composer({ m }: { m: Messenger }) {
  const [text, setText] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);
  useEffect(() => input.current?.focus(), []);
  const submit = (e?: Event) => {
    e?.preventDefault();
    if (!text.trim()) return;
    m.send(text);
    setText('');
  };
  return (
    <form class="composer" onSubmit={submit}>
      <label class="sr" for="ct-input">
        Your message
      </label>
      <textarea
        id="ct-input"
        ref={input}
        rows={1}
        maxLength={4000}
        placeholder="Write a message…"
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) submit(e);
        }}
      />
      <button class="send" type="submit" aria-label="Send" disabled={!text.trim()}>
        <SendIcon />
      </button>
    </form>
  );
}

function ConversationList({ m }: { m: Messenger }) {
  const state = useMessengerState(m);
  return (
    <ul class="list" aria-label="Your conversations">
      {state.conversations.map((c) => (
        <li key={c.id}>
          <button type="button" onClick={() => m.show('thread', c.id)}>
            {c.messages.at(-1)?.body.slice(0, 80) ?? 'Conversation'}
            <small>{new Date(c.messages.at(-1)?.at ?? c.startedAt).toLocaleString()}</small>
          </button>
        </li>
      ))}
    </ul>
  );
}

function Panel({ m, onClose }: { m: Messenger; onClose: () => void }) {
  const state = useMessengerState(m);
  return (
    <section
      id="ct-panel"
      class="panel"
      role="dialog"
      aria-labelledby="ct-greeting"
      onKeyDown={(e) => e.key === 'Escape' && onClose()}
    >
      <header class="head">
        {/* Before a boot has answered, a problem still gets a heading rather than an empty header. */}
        <h2 id="ct-greeting">{state.greeting || (state.unavailable || !state.online || state.busy ? 'Hi there 👋' : '')}</h2>
        {state.intro && <p>{state.intro}</p>}
        <button type="button" class="close" aria-label="Close chat" onClick={onClose}>
          ×
        </button>
      </header>
      {state.conversations.length > 0 && (
        <nav class="bar" aria-label="Conversations">
          {state.view === 'thread' && state.conversations.length > 1 ? (
            <button type="button" class="link" onClick={() => m.show('list')}>
              ‹ All conversations ({state.conversations.length})
            </button>
          ) : (
            <span />
          )}
          <button type="button" class="link" onClick={() => m.show('thread', null)}>
            New conversation
          </button>
        </nav>
      )}
      {state.linkedElsewhere && (
        <p class="status" role="status">
          The conversation from your email is in the browser you wrote from. You can write to us here too.
        </p>
      )}
      {state.unavailable ? (
        <p class="status unavailable" role="alert">
          Chat isn't available on this page right now. Your messages are kept here and will be sent once it is.
        </p>
      ) : !state.online ? (
        <p class="status" role="status">
          Offline: your messages will be sent when the connection is back.
        </p>
      ) : (
        state.busy && (
          <p class="status" role="status">
            Chat is busy right now: your messages are kept here and will be sent in a moment.
          </p>
        )
      )}
      {state.view === 'list' ? <ConversationList m={m} /> : <Thread m={m} />}
      {state.view === 'thread' && <Composer m={m} />}
    </section>
  );
}

/**
 * An in-app message above the launcher. Its HTML was sanitised by the server (nothing runs,
 * nothing styles it) and its links are tracked already. Reachable by keyboard, closed by its ×
 * or Escape; focus then goes back to the launcher.
 */
function Card({ card, onDismiss }: { card: InAppCard; onDismiss: () => void }) {
  return (
    <section class="card" tabIndex={0} aria-label="Message from the team" onKeyDown={(e) => e.key === 'Escape' && onDismiss()}>
      <div class="card-body" dangerouslySetInnerHTML={{ __html: card.html }} />
      <button type="button" class="dismiss" aria-label="Dismiss message" onClick={onDismiss}>
        ×
      </button>
    </section>
  );
}

export function App({ m }: { m: Messenger }) {
  const state = useMessengerState(m);
  const launcher = useRef<HTMLButtonElement>(null);
  const unread = state.unread.length;
  useEffect(() => followInTitle(unread), [unread]);
  const close = () => {
    m.setOpen(false);
    launcher.current?.focus();
  };
  return (
    <div class="root">
      <style>{css}</style>
      {state.open && <Panel m={m} onClose={close} />}
      {!state.open && state.inApp.length > 0 && (
        <div class="cards">
          {state.inApp.map((card) => (
            <Card
              key={card.messageId}
              card={card}
              onDismiss={() => {
                m.dismiss(card.messageId);
                launcher.current?.focus();
              }}
            />
          ))}
        </div>
      )}
      <button
        ref={launcher}
        type="button"
        class="launcher"
        aria-label={state.open ? 'Close chat' : unread ? `Open chat, ${unread === 1 ? '1 unread reply' : `${unread} unread replies`}` : 'Open chat'}
        aria-expanded={state.open}
        aria-controls="ct-panel"
        onClick={() => (state.open ? close() : m.setOpen(true))}
      >
        {state.open ? <CloseIcon /> : <ChatIcon />}
        {!state.open && unread > 0 && (
          <span class="unread" aria-hidden="true">
            {unread > 9 ? '9+' : unread}
          </span>
        )}
      </button>
    </div>
  );
}
