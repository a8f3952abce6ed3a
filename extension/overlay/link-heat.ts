import type { MessageStats, PersonStats } from '../../api/types.ts';
import { heatColour, heatShare } from './heat-scale.ts';

/** What a painted link shows: its count, heat, rank and who clicked it. */
export interface LinkHeat {
  messageId: number;
  linkId: number;
  text: string;
  url: string;
  /** Human clicks. */
  clicks: number;
  unique: number;
  /** Suspected-bot hits, kept apart. */
  bot: number;
  share: number;
  colour: string;
  /** 1 for the message's most clicked link; links with equal clicks share a rank. */
  rank: number;
  people: { who: string; count: number; lastAt: string | null }[];
}

export interface MessageData {
  stats: MessageStats;
  people: PersonStats[];
}

/** Every tracked link of a message with its heat, keyed by link id. */
export function linkHeats(messageId: number, { stats, people }: MessageData): Map<number, LinkHeat> {
  // The links' own human clicks add up to the message's; using them keeps shares summing to 100%.
  const total = stats.links.reduce((sum, l) => sum + l.clicks.total, 0);
  const distinctCounts = [...new Set(stats.links.map((l) => l.clicks.total))].sort((a, b) => b - a);
  const heats = new Map<number, LinkHeat>();
  for (const link of stats.links) {
    const share = heatShare(link.clicks.total, total);
    const clickers = people
      .flatMap((p) => {
        const c = p.clicks.find((c) => c.linkId === link.id);
        return c && c.count > 0 ? [{ who: p.name || p.email || 'an anonymous visitor', count: c.count, lastAt: c.lastAt }] : [];
      })
      .sort((a, b) => b.count - a.count || (b.lastAt ?? '').localeCompare(a.lastAt ?? ''));
    heats.set(link.id, {
      messageId,
      linkId: link.id,
      text: link.text,
      url: link.url,
      clicks: link.clicks.total,
      unique: link.clicks.unique,
      bot: link.clicks.bot,
      share,
      colour: heatColour(share),
      rank: distinctCounts.indexOf(link.clicks.total) + 1,
      people: clickers,
    });
  }
  return heats;
}
