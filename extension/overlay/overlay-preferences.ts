import { browser } from '../platform/browser.ts';
import type { BadgeShows } from './badge-numbers.ts';

/** The overlay as the marketer last left it, on any page: kept in storage.local (readable by the overlay script, never by the page). */
export interface OverlayPreferences {
  badge: BadgeShows;
  legendCollapsed: boolean;
}

const KEY = 'overlayPreferences';
const DEFAULTS: OverlayPreferences = { badge: 'clicks', legendCollapsed: false };

export async function loadOverlayPreferences(): Promise<OverlayPreferences> {
  const got = (await browser.storage.local.get(KEY))[KEY] as Partial<OverlayPreferences> | undefined;
  return { ...DEFAULTS, ...got };
}

export async function saveOverlayPreferences(preferences: OverlayPreferences): Promise<void> {
  await browser.storage.local.set({ [KEY]: preferences });
}
