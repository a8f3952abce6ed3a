import { useEffect, useState } from 'preact/hooks';
import type { ConversationSummary } from '../../api/types.ts';
import { clicktrail } from '../api/client.ts';
import { browser } from '../platform/browser.ts';
import type { RuntimeMessage } from '../runtime-messages.ts';
import { shortDate } from '../ui/format.ts';
import { ConversationThread } from './conversation-thread.tsx';
import { parseRoute } from './route.ts';

export function Inbox() {
  const [list, setList] = useState<ConversationSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [version, setVersion] = useState(0);

  const reload = () =>
    clicktrail
      .conversations()
      .then((l) => {
        setList(l);
        setError(null);
        return l;
      })
      .catch((err: Error) => (setError(err.message), null));

  useEffect(() => {
    const follow = (l: ConversationSummary[] | null) => {
      const route = parseRoute(location.hash);
      if (!route) return;
      if ('conversation' in route) setSelected(route.conversation);
      else setSelected(l?.find((c) => c.person?.id === route.person)?.id ?? null);
    };
    void reload().then(follow);
    const onHash = () => void reload().then(follow);
    // The service worker passes on what the team's stream says while this page is open.
    const onEvent = (raw: unknown) => {
      if ((raw as RuntimeMessage).type !== 'team.event') return;
      void reload();
      setVersion((v) => v + 1);
    };
    addEventListener('hashchange', onHash);
    browser.runtime.onMessage.addListener(onEvent);
    return () => {
      removeEventListener('hashchange', onHash);
      browser.runtime.onMessage.removeListener(onEvent);
    };
  }, []);

  return (
    <div class="inbox">
      <header>
        <div class="brand">
          <img src="/icons/icon-48.png" alt="" /> Clicktrail inbox
        </div>
        {error && <span class="error">{error}</span>}
      </header>
      <ul class="list">
        {list?.length === 0 && <li class="muted" style={{ padding: '14px' }}>No conversations yet.</li>}
        {list?.map((c) => (
          <li key={c.id} class={c.id === selected ? 'selected' : ''} data-conversation-id={c.id}>
            <button type="button" onClick={() => setSelected(c.id)}>
              <div class="who">
                <span>
                  <span class="name">{c.person ? c.person.name || c.person.email : 'Anonymous visitor'}</span>
                  {c.identifiedBy && (
                    <span class={`tag ${c.identifiedBy}`}>{c.identifiedBy === 'verified' ? 'verified' : 'by email click'}</span>
                  )}
                </span>
                <time>{shortDate(c.lastMessageAt)}</time>
              </div>
              <div class="last">{c.lastMessage}</div>
            </button>
          </li>
        ))}
      </ul>
      {selected ? (
        <ConversationThread id={selected} version={version} onSent={() => void reload()} />
      ) : (
        <div class="placeholder">Pick a conversation.</div>
      )}
    </div>
  );
}
