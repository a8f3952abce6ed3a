import { useState } from 'preact/hooks';
import type { PersonStats } from '../../api/types.ts';
import type { LinkHeat } from '../overlay/link-heat.ts';
import { shortDate } from '../ui/format.ts';
import { mergeTagsAsText, MergeTagText } from '../ui/merge-tag-text.tsx';
import { describeReasons, sumReasons } from '../ui/reasons.ts';
import { downloadCsv, type CsvCell } from './csv.ts';
import {
  botHitCount,
  filterPeople,
  humanClickCount,
  nextSort,
  PEOPLE_FILTERS,
  sortPeople,
  type PeopleColumn,
  type PeopleFilter,
  type PeopleSort,
} from './sort-and-filter-people.ts';

type LinkName = (linkId: number) => string;
const humanClicks = (p: PersonStats) => p.clicks.filter((c) => c.count > 0);
/** Why this person's hits were set apart (suspected bots) or counted without identifying them (suspect). */
const setApart = (p: PersonStats) => describeReasons(sumReasons(p.clicks.map((c) => c.reasons)));

/** The People CSV. */
export function peopleCsvRows(people: readonly PersonStats[], linkName: LinkName): CsvCell[][] {
  return [
    ['email', 'name', 'sent at', 'opened at', 'human clicks', 'suspect clicks', 'suspected-bot hits', 'set apart because', 'links clicked', 'goal reached at'],
    ...people.map((p) => [
      p.email,
      p.name,
      p.sentAt,
      p.openedAt,
      humanClickCount(p),
      p.clicks.reduce((s, c) => s + c.suspect, 0),
      botHitCount(p),
      setApart(p),
      humanClicks(p).map((c) => `${linkName(c.linkId)} ×${c.count}`).join('; '),
      p.goalAt,
    ]),
  ];
}

const COLUMNS: { column: PeopleColumn; label: string }[] = [
  { column: 'person', label: 'Person' },
  { column: 'opened', label: 'Opened' },
  { column: 'clicks', label: 'Clicks' },
  { column: 'set-apart', label: 'Set apart' },
  { column: 'goal', label: 'Goal' },
];

export function PeopleTable({ people, heats, subject }: { people: PersonStats[]; heats: ReadonlyMap<number, LinkHeat>; subject: string }) {
  const [filter, setFilter] = useState<PeopleFilter>('all');
  const [sort, setSort] = useState<PeopleSort | null>(null);
  // The honeypot is the one link with hits and no placement.
  const linkName: LinkName = (id) => heats.get(id)?.text || heats.get(id)?.url || 'hidden link';
  const shown = sort ? sortPeople(filterPeople(people, filter), sort) : filterPeople(people, filter);
  // What is on screen is what goes out: a filtered list is the list to act on.
  const exportCsv = () => downloadCsv(`${mergeTagsAsText(subject)} - people.csv`, peopleCsvRows(shown, linkName));
  return (
    <section class="people">
      <h2>
        People <button type="button" onClick={exportCsv}>Export CSV</button>
      </h2>
      <div class="filters" role="group" aria-label="Show people who">
        {PEOPLE_FILTERS.map((f) => (
          <button type="button" key={f.filter} data-filter={f.filter} aria-pressed={filter === f.filter} onClick={() => setFilter(f.filter)}>
            {f.label} <span class="count">{people.filter(f.keep).length}</span>
          </button>
        ))}
      </div>
      <table>
        <thead>
          <tr>
            {COLUMNS.map(({ column, label }) => (
              <th key={column} data-column={column} aria-sort={sort?.column === column ? sort.direction : 'none'}>
                <button type="button" class="sort" onClick={() => setSort(nextSort(sort, column))}>
                  {label}
                  <span class="arrow" aria-hidden="true">
                    {sort?.column === column ? (sort.direction === 'ascending' ? '▲' : '▼') : ''}
                  </span>
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((p) => (
            <tr key={p.recipientId} data-recipient-id={p.recipientId}>
              <td class="person">
                <span class="name">{p.name || p.email || 'Anonymous visitor'}</span>
                {p.name && p.email && <div class="email">{p.email}</div>}
              </td>
              <td class="opened">{shortDate(p.openedAt)}</td>
              <td class="clicks">
                <b>{humanClickCount(p)}</b>{' '}
                <span class="links">
                  {humanClicks(p).map((c, i) => (
                    <span class="link" key={c.linkId}>
                      {i > 0 && ', '}
                      <MergeTagText text={linkName(c.linkId)} sample={p} /> ×{c.count}
                    </span>
                  ))}
                </span>
              </td>
              <td class="set-apart">
                {p.clicks.some((c) => c.bot + c.suspect > 0)
                  ? p.clicks
                      .filter((c) => c.bot + c.suspect > 0)
                      .map((c) => (
                        <div class="hit" key={c.linkId}>
                          <span class="link">
                            <MergeTagText text={linkName(c.linkId)} sample={p} />
                          </span>
                          : <span class="why">{describeReasons(c.reasons)}</span>
                        </div>
                      ))
                  : '—'}
              </td>
              <td class="goal">{p.goalAt ? shortDate(p.goalAt) : '—'}</td>
            </tr>
          ))}
          {shown.length === 0 && (
            <tr class="nobody">
              <td colSpan={COLUMNS.length} class="muted">
                Nobody.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
