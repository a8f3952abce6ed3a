import { useEffect, useRef, useState } from 'preact/hooks';
import type { Conversation } from '../../api/types.ts';
import { clicktrail } from '../api/client.ts';
import { shortDate } from '../ui/format.ts';

interface Props {
  id: number;
  /** Bumped when the team's stream says something happened, to refetch. */
  version: number;
  onSent(): void;
}

export function ConversationThread({ id, version, onSent }: Props) {
  const [conversation, setConversation] = useState<Conversation | null>(null);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const bottom = useRef<HTMLLIElement>(null);

  const load = () => clicktrail.conversation(id).then(setConversation, (err: Error) => setError(err.message));
  useEffect(() => void load(), [id, version]);
  useEffect(() => bottom.current?.scrollIntoView({ block: 'end' }), [conversation?.messages.length]);

  const send = async (e: Event) => {
    e.preventDefault();
    const body = draft.trim();
    if (!body) return;
    setSending(true);
    try {
      await clicktrail.reply(id, body);
      setDraft('');
      setError(null);
      await load();
      onSent();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSending(false);
    }
  };

  const person = conversation?.person;
  return (
    <div class="thread" data-conversation-id={id}>
      <header>
        <h2>{person ? person.name || person.email : 'Anonymous visitor'}</h2>
        <div class="page">
          {[
            person?.name ? person.email : null,
            conversation?.identifiedBy === 'email-click' ? 'identified by email click (unverified)' : null,
            conversation?.identifiedBy === 'verified' ? 'verified' : null,
            // An address the visitor typed for replies: nothing proves it is theirs.
            conversation?.contactEmail ? `replies by email to ${conversation.contactEmail} (given in the chat, unverified)` : null,
            conversation?.pageUrl,
          ]
            .filter(Boolean)
            .join(' · ')}
        </div>
      </header>
      <ul class="messages">
        {conversation?.messages.map((m) => (
          <li key={m.id} class={`bubble ${m.author}`}>
            {m.body}
            <time>{shortDate(m.at)}</time>
          </li>
        ))}
        <li ref={bottom} aria-hidden="true" />
      </ul>
      <form class="reply" onSubmit={send}>
        <textarea
          name="reply"
          placeholder="Write a reply… (Enter sends, Shift+Enter for a new line)"
          aria-label="Reply"
          value={draft}
          onInput={(e) => setDraft(e.currentTarget.value)}
          onKeyDown={(e) => {
            // As in the widget: Enter sends, Shift+Enter is a new line, and Enter that ends an IME composition is the IME's.
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
              e.preventDefault();
              if (!sending) void send(e);
            }
          }}
        />
        <button class="primary" type="submit" disabled={sending || !draft.trim()}>
          Send
        </button>
        {error && <span class="error">{error}</span>}
      </form>
    </div>
  );
}
