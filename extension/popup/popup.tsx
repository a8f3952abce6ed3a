import type { MessageSummary } from '../../api/types.ts';
import { clicktrail } from '../api/client.ts';
import { statsCache } from '../cache/stats-cache.ts';
import { browser } from '../platform/browser.ts';
import { ago, shortDate } from '../ui/format.ts';
import { plural } from '../ui/numbers.ts';
import { useCachedThenFresh } from '../ui/use-cached-then-fresh.ts';
import { MessageRow } from './message-row.tsx';
import { overlayActiveTab } from './overlay-active-tab.ts';
import { SetupPrompt, useServerSetup } from './setup-prompt.tsx';
import { useState } from 'preact/hooks';

/** How many messages get their full stats (chart, goal) fetched each time the popup opens. */
const WITH_STATS = 10;

export function Popup() {
  const [problem, setProblem] = useState<string | null>(null);
  const setup = useServerSetup();
  const ready = setup?.state === 'ready';
  const list = useCachedThenFresh<MessageSummary[]>(
    () => statsCache.recentMessages(),
    () => clicktrail.messages(20),
    (v) => statsCache.putRecentMessages(v),
    [],
  );
  const open = (path: string) => void browser.tabs.create({ url: browser.runtime.getURL(path) }).then(() => window.close());
  // A list cached before drafts existed has no status: everything in it was sent.
  const drafts = list.value?.filter((m) => m.status === 'draft') ?? [];
  const sent = list.value?.filter((m) => m.status !== 'draft');

  return (
    <main>
      <header class="top">
        <div class="brand">
          <img src="/icons/icon-48.png" alt="" /> Clicktrail
        </div>
        <div class="actions">
          <button
            class="primary overlay"
            type="button"
            disabled={!ready}
            title={ready ? undefined : 'Set up the server first'}
            onClick={() => overlayActiveTab().then((err) => (err ? setProblem(err) : window.close()))}
          >
            Overlay this tab
          </button>
          <button type="button" class="new-message" onClick={() => open('compose/compose.html')}>
            New message
          </button>
          <button type="button" class="inbox" onClick={() => open('inbox/inbox.html')}>
            Inbox
          </button>
          <button type="button" title="Options" aria-label="Options" onClick={() => void browser.runtime.openOptionsPage()}>
            ⚙
          </button>
        </div>
      </header>
      {problem && <div class="status error">{problem}</div>}
      <SetupPrompt setup={setup} />
      {list.error && ready ? (
        <div class="status error">
          {list.value ? `Offline: numbers from ${ago(list.savedAt!)}. ` : ''}
          {list.error}
        </div>
      ) : list.refreshing && list.value ? (
        <div class="status">Refreshing… (numbers from {ago(list.savedAt!)})</div>
      ) : null}
      {list.value?.length === 0 && <div class="empty">No messages yet.</div>}
      <div class="lists">
        {drafts.length > 0 && (
          <section class="drafts" aria-labelledby="drafts-title">
            <h2 id="drafts-title">Drafts</h2>
            <ul>
              {drafts.map((d) => (
                <li key={d.id} class="draft" data-message-id={d.id}>
                  <a class="subject" href="#" title={d.subject} onClick={(e) => (e.preventDefault(), open(`compose/compose.html?id=${d.id}`))}>
                    {d.subject}
                  </a>
                  <span class="date">
                    {plural(d.recipients, 'recipient')} · {shortDate(d.createdAt)}
                  </span>
                </li>
              ))}
            </ul>
          </section>
        )}
        {sent && sent.length > 0 && (
          <section class="sent" aria-labelledby={drafts.length > 0 ? 'sent-title' : undefined}>
            {drafts.length > 0 && <h2 id="sent-title">Sent</h2>}
            <ul class="messages">
              {sent.map((m, i) => (
                <MessageRow key={m.id} summary={m} withStats={i < WITH_STATS} onOpen={() => open(`message/message.html?id=${m.id}`)} />
              ))}
            </ul>
          </section>
        )}
      </div>
    </main>
  );
}

