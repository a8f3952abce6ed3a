import type { MessageSummary } from '../../api/types.ts';
import { clicktrail } from '../api/client.ts';
import { statsCache } from '../cache/stats-cache.ts';
import { browser } from '../platform/browser.ts';
import { ago } from '../ui/format.ts';
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
      <ul class="messages">
        {list.value?.map((m, i) => (
          <MessageRow key={m.id} summary={m} withStats={i < WITH_STATS} onOpen={() => open(`message/message.html?id=${m.id}`)} />
        ))}
      </ul>
    </main>
  );
}

