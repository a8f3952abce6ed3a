import { useMemo, useState } from 'preact/hooks';
import type { Message, MessageStats, PersonStats } from '../../api/types.ts';
import { clicktrail } from '../api/client.ts';
import { statsCache } from '../cache/stats-cache.ts';
import { buildHeats } from '../overlay/build-heats.ts';
import { linkHeats } from '../overlay/link-heat.ts';
import { ago, percent } from '../ui/format.ts';
import { hasMergeTags, MergeTagText, sampleRecipient } from '../ui/merge-tag-text.tsx';
import { messageTotals, plural } from '../ui/numbers.ts';
import { useCachedThenFresh } from '../ui/use-cached-then-fresh.ts';
import { LinkTable } from './link-table.tsx';
import { MessageFrame } from './message-frame.tsx';
import { PeopleTable } from './people-table.tsx';

const noCache = async () => undefined;
const noWrite = async () => undefined;

export function MessageView({ id }: { id: number }) {
  const message = useCachedThenFresh<Message>(noCache, () => clicktrail.message(id), noWrite, [id]);
  const stats = useCachedThenFresh<MessageStats>(() => statsCache.stats(id), () => clicktrail.stats(id), (v) => statsCache.putStats(id, v), [id]);
  const people = useCachedThenFresh<PersonStats[]>(() => statsCache.people(id), () => clicktrail.people(id), (v) => statsCache.putPeople(id, v), [id]);

  const byLink = useMemo(
    () => (stats.value && people.value ? linkHeats(id, { stats: stats.value, people: people.value }) : null),
    [stats.value, people.value],
  );
  const heats = useMemo(
    () => (stats.value && people.value ? buildHeats({ [id]: { stats: stats.value, people: people.value } }) : null),
    [stats.value, people.value],
  );
  const sample = useMemo(() => sampleRecipient(people.value), [people.value]);
  const [legendDock, setLegendDock] = useState<HTMLElement | null>(null);
  const error = message.error ?? stats.error ?? people.error;
  const s = stats.value;
  const totals = s && messageTotals(s);
  if (!message.value) return <main>{error ? <p class="error">{error}</p> : <p class="muted">Loading…</p>}</main>;

  return (
    <main>
      <div class="top">
        <div class="brand">
          <img src="/icons/icon-48.png" alt="" /> Clicktrail
        </div>
        {error && <span class="error">Offline: numbers from {stats.savedAt ? ago(stats.savedAt) : 'earlier'}. {error}</span>}
      </div>
      <h1>
        <MergeTagText text={message.value.subject} sample={sample} />
      </h1>
      {message.value.status === 'draft' && (
        <p class="draft-note">
          Not sent yet: <a href={`../compose/compose.html?id=${id}`}>edit and send this draft</a>.
        </p>
      )}
      {sample && hasMergeTags(message.value.subject + message.value.html) && (
        <p class="sample muted">Merge tags filled as {sample.name || sample.email} got them.</p>
      )}
      {s && (
        <div class="summary">
          <div><b>{s.sent}</b><span>sent</span></div>
          <div><b>{s.opens.unique}</b><span>opened</span></div>
          <div><b>{s.clicks.unique}</b><span>clicked</span></div>
          <div><b>{percent(s.clicks.unique, s.sent)}</b><span>click rate</span></div>
          <div class="human-clicks"><b>{s.clicks.total}</b><span>{s.clicks.total === 1 ? 'human click' : 'human clicks'}</span></div>
          <div><b>{s.clicks.suspect}</b><span>of them suspect</span></div>
          <div class="bot-hits" title={totals!.hidden ? `${totals!.hidden} of them on the hidden link no person can see` : undefined}>
            <b>{s.clicks.bot}</b>
            <span>{s.clicks.bot === 1 ? 'suspected-bot hit' : 'suspected-bot hits'}</span>
          </div>
          {s.goal && (
            <div class="goal" title={`${s.goal.event} within ${plural(s.goal.withinDays, 'day')} of the mail`}>
              <b>
                {s.goal.completed} · {percent(s.goal.rate, 1)}
              </b>
              <span>goal: {s.goal.event}</span>
            </div>
          )}
        </div>
      )}
      <div class="layout">
        <MessageFrame message={message.value} heats={heats} totals={totals ?? null} sample={sample} legendIn={legendDock} />
        <div class="side">
          <div class="legend-dock" ref={setLegendDock} />
          {byLink && <LinkTable heats={[...byLink.values()]} subject={message.value.subject} hidden={totals?.hidden ?? 0} />}
        </div>
      </div>
      {/* The width of the page: a row per person with their links and reasons needs it. */}
      {byLink && people.value && <PeopleTable people={people.value} heats={byLink} subject={message.value.subject} />}
    </main>
  );
}
