import { useEffect, useRef, useState } from 'preact/hooks';
import type { Messenger } from './messenger.ts';
import { threadItems, type ThreadItem } from './state.ts';
import { css } from './styles.ts';

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

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function useMessengerState(m: Messenger) {
  const [state, setState] = useState(m.state);
  useEffect(() => m.subscribe(() => setState(m.state)), [m]);
  return state;
}

function Message({ item, onDiscard }: { item: ThreadItem; onDiscard: () => void }) {
  const who = item.author === 'team' ? 'Team' : 'You';
  return (
    <li class={`msg ${item.author} ${item.status}`}>
      <span class="sr">{who}: </span>
      {item.body}
      <span class="meta">
        {item.status === 'sending' ? 'Sending…' : item.status === 'failed' ? `Not sent: ${item.error}` : time(item.at)}
        {item.status === 'failed' && (
          <button type="button" class="link" onClick={onDiscard}>
            Remove
          </button>
        )}
      </span>
    </li>
  );
}

function Thread({ m }: { m: Messenger }) {
  const state = useMessengerState(m);
  const items = threadItems(state);
  const end = useRef<HTMLLIElement>(null);
  useEffect(() => end.current?.scrollIntoView({ block: 'end' }), [items.length]);
  return (
    <ol class="thread" role="log" aria-live="polite" aria-label="Conversation">
      {items.length === 0 && <li class="empty">Send us a message and we'll answer right here.</li>}
      {items.map((item) => (
        <Message key={item.key} item={item} onDiscard={() => m.discard(item.key.slice(1))} />
      ))}
      <li ref={end} aria-hidden="true" />
    </ol>
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
        <h2 id="ct-greeting">{state.greeting}</h2>
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
      {!state.online && <p class="status">Offline: your messages will be sent when the connection is back.</p>}
      {state.view === 'list' ? <ConversationList m={m} /> : <Thread m={m} />}
      {state.view === 'thread' && <Composer m={m} />}
    </section>
  );
}

export function App({ m }: { m: Messenger }) {
  const state = useMessengerState(m);
  const launcher = useRef<HTMLButtonElement>(null);
  const close = () => {
    m.setOpen(false);
    launcher.current?.focus();
  };
  return (
    <div class="root">
      <style>{css}</style>
      {state.open && <Panel m={m} onClose={close} />}
      <button
        ref={launcher}
        type="button"
        class="launcher"
        aria-label={state.open ? 'Close chat' : 'Open chat'}
        aria-expanded={state.open}
        aria-controls="ct-panel"
        onClick={() => (state.open ? close() : m.setOpen(true))}
      >
        {state.open ? <CloseIcon /> : <ChatIcon />}
      </button>
    </div>
  );
}
