import { describe, expect, it } from 'vitest';
import type { PersonStats } from '../../api/types.ts';
import { filterPeople, nextSort, sortPeople } from '../../extension/message/sort-and-filter-people.ts';

const NO_REASONS = { bot: {}, suspect: {} };
const person = (id: number, name: string | null, over: Partial<PersonStats> = {}): PersonStats => ({
  recipientId: id,
  email: `p${id}@shop.test`,
  name,
  sentAt: '2025-01-01T09:00:00Z',
  openedAt: null,
  clicks: [],
  goalAt: null,
  dismissedAt: null,
  unsubscribedAt: null,
  ...over,
});
const clicks = (count: number, bot = 0, suspect = 0) => ({ linkId: 1, count, suspect, bot, reasons: NO_REASONS, firstAt: null, lastAt: null });

const opener = person(1, 'Olive Opener', { openedAt: '2025-01-01T10:00:00Z' });
const silent = person(2, 'Sam Silent');
const clicker = person(3, 'Cleo Clicker', { openedAt: '2025-01-01T11:00:00Z', clicks: [clicks(3)], goalAt: '2025-01-02T10:00:00Z' });
// Clicked with no open recorded (images blocked): a click is an open too.
const blocked = person(4, null, { clicks: [clicks(1)] });
const scanned = person(5, 'Bea Bot', { clicks: [clicks(0, 2)] });
const people = [opener, silent, clicker, blocked, scanned];
const ids = (list: PersonStats[]) => list.map((p) => p.recipientId);

describe('the people table’s filters', () => {
  it('answers the questions of a send', () => {
    expect(ids(filterPeople(people, 'all'))).toEqual([1, 2, 3, 4, 5]);
    expect(ids(filterPeople(people, 'opened-not-clicked'))).toEqual([1]);
    expect(ids(filterPeople(people, 'not-opened'))).toEqual([2, 5]);
    expect(ids(filterPeople(people, 'clicked'))).toEqual([3, 4]);
    expect(ids(filterPeople(people, 'bot'))).toEqual([5]);
  });
});

describe('the people table’s sorting', () => {
  it('sorts names A to Z first (email for the nameless), numbers and dates most first', () => {
    expect(nextSort(null, 'person')).toEqual({ column: 'person', direction: 'ascending' });
    expect(nextSort(null, 'clicks')).toEqual({ column: 'clicks', direction: 'descending' });
    expect(nextSort({ column: 'clicks', direction: 'descending' }, 'clicks')).toEqual({ column: 'clicks', direction: 'ascending' });
    expect(nextSort({ column: 'clicks', direction: 'ascending' }, 'opened')).toEqual({ column: 'opened', direction: 'descending' });
    expect(ids(sortPeople(people, { column: 'person', direction: 'ascending' }))).toEqual([5, 3, 1, 4, 2]);
    expect(ids(sortPeople(people, { column: 'person', direction: 'descending' }))).toEqual([2, 4, 1, 3, 5]);
  });

  it('breaks ties by name, and puts the never-opened and goal-less last either way', () => {
    expect(ids(sortPeople(people, { column: 'clicks', direction: 'descending' }))).toEqual([3, 4, 5, 1, 2]);
    expect(ids(sortPeople(people, { column: 'clicks', direction: 'ascending' }))).toEqual([5, 1, 2, 4, 3]);
    expect(ids(sortPeople(people, { column: 'opened', direction: 'descending' }))).toEqual([3, 1, 5, 4, 2]);
    expect(ids(sortPeople(people, { column: 'opened', direction: 'ascending' }))).toEqual([1, 3, 5, 4, 2]);
    expect(ids(sortPeople(people, { column: 'goal', direction: 'ascending' }))).toEqual([3, 5, 1, 4, 2]);
    expect(ids(sortPeople(people, { column: 'set-apart', direction: 'descending' }))[0]).toBe(5);
  });

  it('leaves the list it was given alone', () => {
    const copy = [...people];
    sortPeople(people, { column: 'clicks', direction: 'ascending' });
    expect(people).toEqual(copy);
  });
});
