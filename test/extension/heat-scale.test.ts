import { describe, expect, it } from 'vitest';
import type { MessageStats, PersonStats } from '../../api/types.ts';
import { heatColour, heatGradientCss, heatShare, NO_CLICKS_COLOUR } from '../../extension/overlay/heat-scale.ts';
import { linkHeats } from '../../extension/overlay/link-heat.ts';

const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
/** Relative luminance, enough to tell that hotter is darker. */
const luminance = (hex: string) => {
  const [r, g, b] = rgb(hex);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};

describe('heat scale', () => {
  it('is a link’s share of the message’s human clicks, clamped to [0, 1]', () => {
    expect(heatShare(3, 12)).toBe(0.25);
    expect(heatShare(0, 12)).toBe(0);
    expect(heatShare(5, 0)).toBe(0);
    expect(heatShare(20, 10)).toBe(1);
    expect(heatShare(Number.NaN, 10)).toBe(0);
  });

  it('shows no clicks in grey, apart from the scale', () => {
    expect(heatColour(0)).toBe(NO_CLICKS_COLOUR);
    expect(heatColour(-1)).toBe(NO_CLICKS_COLOUR);
    expect(heatColour(Number.NaN)).toBe(NO_CLICKS_COLOUR);
    expect(heatColour(0.001)).not.toBe(NO_CLICKS_COLOUR);
  });

  it('gets darker (hotter) as the share grows, from pale yellow to deep red', () => {
    const shares = Array.from({ length: 21 }, (_, i) => 0.001 + (i / 20) * 0.999);
    const lum = shares.map((s) => luminance(heatColour(s)));
    for (let i = 1; i < lum.length; i++) expect(lum[i]).toBeLessThanOrEqual(lum[i - 1]!);
    expect(heatColour(1)).toBe('#bd0026');
    expect(heatColour(5)).toBe('#bd0026');
    expect(heatColour(1e-9)).toBe('#ffeda0');
  });

  it('draws the legend with the same stops', () => {
    expect(heatGradientCss()).toMatch(/^linear-gradient\(to right, rgb\(255,237,160\) 0%, .* rgb\(189,0,38\) 100%\)$/);
  });
});

describe('link heats', () => {
  const counts = (total: number, unique: number, bot: number) => ({ total, unique, bot, suspect: 0 });
  const NO_REASONS = { bot: {}, suspect: {} };
  const stats: MessageStats = {
    recipients: 3,
    sent: 3,
    unsubscribes: 0,
    opens: counts(2, 2, 1),
    clicks: counts(6, 3, 4),
    reasons: { bot: { 'too-soon': 4 }, suspect: {} },
    goal: null,
    links: [
      { id: 1, url: 'https://shop.test/a', position: 0, text: 'A', part: 'html', clicks: counts(3, 2, 1) },
      { id: 2, url: 'https://shop.test/a', position: 1, text: 'A again', part: 'html', clicks: counts(3, 1, 0) },
      { id: 3, url: 'https://shop.test/c', position: 2, text: 'C', part: 'html', clicks: counts(0, 0, 3) },
    ],
    timeline: [],
  };
  const person = (recipientId: number, name: string | null, clicks: PersonStats['clicks']): PersonStats => ({
    recipientId,
    email: `p${recipientId}@shop.test`,
    name,
    sentAt: null,
    openedAt: null,
    clicks,
    goalAt: null,
    unsubscribedAt: null,
  });
  const people = [
    person(1, 'Ada', [{ linkId: 1, count: 1, suspect: 0, bot: 0, reasons: NO_REASONS, firstAt: '2025-01-01T10:00:00Z', lastAt: '2025-01-01T10:00:00Z' }]),
    person(2, null, [
      { linkId: 1, count: 2, suspect: 0, bot: 1, reasons: NO_REASONS, firstAt: '2025-01-01T11:00:00Z', lastAt: '2025-01-01T12:00:00Z' },
      { linkId: 3, count: 0, suspect: 0, bot: 3, reasons: NO_REASONS, firstAt: null, lastAt: null },
    ]),
    person(3, 'Cy', [{ linkId: 2, count: 3, suspect: 0, bot: 0, reasons: NO_REASONS, firstAt: '2025-01-01T09:00:00Z', lastAt: '2025-01-01T09:30:00Z' }]),
  ];

  it('gives each placement its own share, rank, bot count and clickers (bots never heat a link)', () => {
    const heats = linkHeats(7, { stats, people });
    expect(heats.get(1)).toMatchObject({ clicks: 3, bot: 1, share: 0.5, rank: 1 });
    expect(heats.get(2)).toMatchObject({ clicks: 3, bot: 0, share: 0.5, rank: 1 });
    expect(heats.get(3)).toMatchObject({ clicks: 0, bot: 3, share: 0, rank: 2, colour: NO_CLICKS_COLOUR, people: [] });
    expect(heats.get(1)!.people).toEqual([
      { who: 'p2@shop.test', count: 2, lastAt: '2025-01-01T12:00:00Z' },
      { who: 'Ada', count: 1, lastAt: '2025-01-01T10:00:00Z' },
    ]);
  });
});
