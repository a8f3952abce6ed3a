import { describe, expect, it } from 'vitest';
import type { MessageStats } from '../../api/types.ts';
import { describeClicks, messageTotals, plural, sumTotals } from '../../extension/ui/numbers.ts';

const link = (total: number, bot: number) => ({ clicks: { total, unique: total, bot, suspect: 0 } }) as MessageStats['links'][number];

describe('the one set of numbers', () => {
  it('counts the honeypot’s hits in the suspected-bot hits, and says how many were on it', () => {
    const stats = { clicks: { total: 9, unique: 6, bot: 8, suspect: 0 }, links: [link(6, 3), link(3, 4)] };
    expect(messageTotals(stats)).toEqual({ clicks: 9, people: 6, bot: 8, hidden: 1 });
    expect(sumTotals([messageTotals(stats), messageTotals(stats)])).toEqual({ clicks: 18, people: 12, bot: 16, hidden: 2 });
    expect(describeClicks(stats.clicks, 1)).toBe('9 human clicks by 6 people; 8 suspected-bot hits set apart (1 on the hidden link)');
  });

  it('speaks in the singular for one', () => {
    expect(describeClicks({ total: 1, unique: 1, bot: 1 }, 0)).toBe('1 human click by 1 person; 1 suspected-bot hit set apart');
    expect(describeClicks({ total: 0, unique: 0, bot: 0 }, 0)).toBe('0 human clicks by 0 people; 0 suspected-bot hits set apart');
    expect(plural(1, 'day')).toBe('1 day');
    expect(plural(7, 'day')).toBe('7 days');
  });
});
