import type { MessageStats, MessageSummary } from '../../api/types.ts';
import { clicktrail } from '../api/client.ts';
import { statsCache } from '../cache/stats-cache.ts';
import { percent, shortDate } from '../ui/format.ts';
import { mergeTagsAsText, MergeTagText } from '../ui/merge-tag-text.tsx';
import { describeClicks, messageTotals, plural } from '../ui/numbers.ts';
import { Sparkline } from '../ui/sparkline.tsx';
import { useCachedThenFresh } from '../ui/use-cached-then-fresh.ts';

interface Props {
  summary: MessageSummary;
  withStats: boolean;
  onOpen(): void;
}

const noStats = async () => undefined;

/** One sent message: its headline numbers at once, its chart and goal once its stats are in. */
export function MessageRow({ summary: m, withStats, onOpen }: Props) {
  const stats = useCachedThenFresh<MessageStats | undefined>(
    withStats ? () => statsCache.stats(m.id) : noStats,
    withStats ? () => clicktrail.stats(m.id) : noStats,
    (v) => (v ? statsCache.putStats(m.id, v) : Promise.resolve()),
    [m.id, withStats],
  );
  const goal = stats.value?.goal;
  return (
    <li class="message" data-message-id={m.id}>
      <div class="head">
        <a class="subject" href="#" title={mergeTagsAsText(m.subject)} onClick={(e) => (e.preventDefault(), onOpen())}>
          <MergeTagText text={m.subject} />
        </a>
        <span class="date">{shortDate(m.createdAt)}</span>
      </div>
      <div class="body">
        <dl class="numbers">
          <dt>Sent</dt>
          <dd class="sent">{m.sent}</dd>
          <dt>Opened</dt>
          <dd class="opened" title={`${plural(m.opens.total, 'open')}, ${m.opens.bot} by machines`}>
            {m.opens.unique}
          </dd>
          <dt>Clicked</dt>
          <dd class="clicked" title={describeClicks(m.clicks, stats.value ? messageTotals(stats.value).hidden : 0)}>
            {m.clicks.unique}
          </dd>
          <dt>Click rate</dt>
          <dd class="click-rate">{percent(m.clicks.unique, m.sent)}</dd>
          <dt>Goal</dt>
          <dd class="goal" title={goal ? `${goal.event} within ${plural(goal.withinDays, 'day')}` : 'No goal set'}>
            {goal ? `${goal.completed} · ${percent(goal.rate, 1)}` : '—'}
          </dd>
        </dl>
        {stats.value && <Sparkline timeline={stats.value.timeline} />}
      </div>
    </li>
  );
}
