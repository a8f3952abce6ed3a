import type { LinkHeat } from './link-heat.ts';

/** What the number on each painted link counts: the switch on the legend. */
export type BadgeShows = 'clicks' | 'people' | 'share';

export const BADGE_CHOICES: readonly { shows: BadgeShows; label: string; meaning: string }[] = [
  { shows: 'clicks', label: 'Clicks', meaning: 'Each badge: the link’s human clicks' },
  { shows: 'people', label: 'People', meaning: 'Each badge: the people who clicked the link' },
  { shows: 'share', label: 'Share', meaning: 'Each badge: the link’s share of all human clicks' },
];

export function badgeNumber(heat: Pick<LinkHeat, 'clicks' | 'unique' | 'share'>, shows: BadgeShows): string {
  switch (shows) {
    case 'clicks':
      return String(heat.clicks);
    case 'people':
      return String(heat.unique);
    case 'share':
      return `${Math.round(heat.share * 100)}%`;
  }
}
