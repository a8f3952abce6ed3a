import type { ClickCounts, MessageStats } from '../../api/types.ts';

/**
 * The one set of numbers the extension shows, everywhere (popup, message view, overlay legend,
 * hover card, tables, CSVs):
 *
 * - **human clicks**: `clicks.total`, people's clicks on the message's links (suspect ones
 *   included); the heat and the badges are made of these alone.
 * - **people**: `clicks.unique`, recipients with at least one human click.
 * - **suspected-bot hits**: `clicks.bot`, every hit set apart as a machine's, on any link of
 *   the message *including its hidden honeypot link*. A link's own figure counts only that
 *   link's; the honeypot has no placement, so its hits appear only in the message's total
 *   (and as "on the hidden link" beside it).
 */
export interface MessageTotals {
  clicks: number;
  people: number;
  bot: number;
  /** Of bot: hits on the hidden honeypot link (no link of the mail shows them). */
  hidden: number;
}

export function messageTotals(stats: Pick<MessageStats, 'clicks' | 'links'>): MessageTotals {
  const onLinks = stats.links.reduce((sum, l) => sum + l.clicks.bot, 0);
  return { clicks: stats.clicks.total, people: stats.clicks.unique, bot: stats.clicks.bot, hidden: Math.max(0, stats.clicks.bot - onLinks) };
}

export function sumTotals(all: readonly MessageTotals[]): MessageTotals {
  return all.reduce((s, t) => ({ clicks: s.clicks + t.clicks, people: s.people + t.people, bot: s.bot + t.bot, hidden: s.hidden + t.hidden }), {
    clicks: 0,
    people: 0,
    bot: 0,
    hidden: 0,
  });
}

/** "1 click", "2 clicks"; `many` defaults to `one` + "s". */
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export const humanClicks = (n: number) => plural(n, 'human click');
export const people = (n: number) => plural(n, 'person', 'people');
export const botHits = (n: number) => plural(n, 'suspected-bot hit');

/** The popup's and the legend's sentence: "6 human clicks by 3 people; 2 suspected-bot hits set apart (1 on the hidden link)". */
export function describeClicks(c: Pick<ClickCounts, 'total' | 'unique' | 'bot'>, hidden: number): string {
  const hiddenNote = hidden > 0 ? ` (${hidden} on the hidden link)` : '';
  return `${humanClicks(c.total)} by ${people(c.unique)}; ${botHits(c.bot)} set apart${hiddenNote}`;
}
