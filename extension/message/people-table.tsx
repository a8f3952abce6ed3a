import type { PersonStats } from '../../api/types.ts';
import type { LinkHeat } from '../overlay/link-heat.ts';
import { shortDate } from '../ui/format.ts';
import { describeReasons, sumReasons } from '../ui/reasons.ts';
import { downloadCsv, type CsvCell } from './csv.ts';

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
      p.clicks.reduce((s, c) => s + c.count, 0),
      p.clicks.reduce((s, c) => s + c.suspect, 0),
      p.clicks.reduce((s, c) => s + c.bot, 0),
      setApart(p),
      humanClicks(p).map((c) => `${linkName(c.linkId)} ×${c.count}`).join('; '),
      p.goalAt,
    ]),
  ];
}

export function PeopleTable({ people, heats, subject }: { people: PersonStats[]; heats: ReadonlyMap<number, LinkHeat>; subject: string }) {
  const linkName: LinkName = (id) => heats.get(id)?.text || heats.get(id)?.url || `link ${id}`;
  const exportCsv = () => downloadCsv(`${subject} - people.csv`, peopleCsvRows(people, linkName));
  return (
    <section class="people">
      <h2>
        People <button type="button" onClick={exportCsv}>Export CSV</button>
      </h2>
      <table>
        <thead>
          <tr>
            <th>Person</th>
            <th>Opened</th>
            <th>Clicked</th>
            <th>Set apart</th>
            <th>Goal</th>
          </tr>
        </thead>
        <tbody>
          {people.map((p) => (
            <tr key={p.recipientId}>
              <td title={p.email ?? undefined}>{p.name || p.email || 'Anonymous visitor'}</td>
              <td>{shortDate(p.openedAt)}</td>
              <td>{humanClicks(p).map((c) => `${linkName(c.linkId)} ×${c.count}`).join(', ') || '—'}</td>
              <td class="muted">{setApart(p) || '—'}</td>
              <td>{p.goalAt ? shortDate(p.goalAt) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
