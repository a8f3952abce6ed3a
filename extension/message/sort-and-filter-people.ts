import type { PersonStats } from '../../api/types.ts';

/** A person's human clicks (suspect ones included), over every link. */
export const humanClickCount = (p: PersonStats) => p.clicks.reduce((s, c) => s + c.count, 0);
/** A person's hits set apart as a machine's. */
export const botHitCount = (p: PersonStats) => p.clicks.reduce((s, c) => s + c.bot, 0);
/** A person's hits set apart one way or the other: suspected-bot hits, and suspect clicks (counted, identifying nobody). */
export const setApartCount = (p: PersonStats) => p.clicks.reduce((s, c) => s + c.bot + c.suspect, 0);

export type PeopleFilter = 'all' | 'opened-not-clicked' | 'not-opened' | 'clicked' | 'bot';

/**
 * The questions a marketer asks of a send. A click counts as an open (its pixel may have been
 * blocked), so "didn't open" is nobody who did either.
 */
export const PEOPLE_FILTERS: readonly { filter: PeopleFilter; label: string; keep: (p: PersonStats) => boolean }[] = [
  { filter: 'all', label: 'Everyone', keep: () => true },
  { filter: 'opened-not-clicked', label: 'Opened, didn’t click', keep: (p) => p.openedAt !== null && humanClickCount(p) === 0 },
  { filter: 'not-opened', label: 'Didn’t open', keep: (p) => p.openedAt === null && humanClickCount(p) === 0 },
  { filter: 'clicked', label: 'Clicked', keep: (p) => humanClickCount(p) > 0 },
  { filter: 'bot', label: 'Set apart as bot', keep: (p) => botHitCount(p) > 0 },
];

export const filterPeople = (people: readonly PersonStats[], filter: PeopleFilter) =>
  people.filter(PEOPLE_FILTERS.find((f) => f.filter === filter)!.keep);

export type PeopleColumn = 'person' | 'opened' | 'clicks' | 'set-apart' | 'goal';
export type SortDirection = 'ascending' | 'descending';
export interface PeopleSort {
  column: PeopleColumn;
  direction: SortDirection;
}

const who = (p: PersonStats) => p.name || p.email || '';

/** What each column sorts by; null (never opened, no goal) always goes last. */
const KEYS: Record<PeopleColumn, (p: PersonStats) => string | number | null> = {
  person: who,
  opened: (p) => (p.openedAt ? Date.parse(p.openedAt) : null),
  clicks: humanClickCount,
  'set-apart': setApartCount,
  goal: (p) => (p.goalAt ? Date.parse(p.goalAt) : null),
};

/** The first click on a header: names A to Z, numbers and dates most (latest) first. */
export const firstDirection = (column: PeopleColumn): SortDirection => (column === 'person' ? 'ascending' : 'descending');

/** Clicking a header: that column in its first direction, or the other way round if it was already the one. */
export function nextSort(current: PeopleSort | null, column: PeopleColumn): PeopleSort {
  if (current?.column !== column) return { column, direction: firstDirection(column) };
  return { column, direction: current.direction === 'ascending' ? 'descending' : 'ascending' };
}

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

/** Sorted by the column, ties by name; a new array. */
export function sortPeople(people: readonly PersonStats[], { column, direction }: PeopleSort): PersonStats[] {
  const key = KEYS[column];
  const sign = direction === 'ascending' ? 1 : -1;
  return [...people].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    if (x !== y) {
      if (x === null) return 1;
      if (y === null) return -1;
      const order = typeof x === 'string' && typeof y === 'string' ? collator.compare(x, y) : (x as number) - (y as number);
      if (order) return sign * order;
    }
    return collator.compare(who(a), who(b));
  });
}
