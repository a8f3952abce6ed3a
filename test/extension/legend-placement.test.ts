import { describe, expect, it } from 'vitest';
import { badgeNumber } from '../../extension/overlay/badge-numbers.ts';
import { legendBox, placeLegend, type Box, type PlacementInput } from '../../extension/overlay/legend-placement.ts';

const viewport = { width: 1000, height: 800 };
const box = (left: number, top: number, right: number, bottom: number): Box => ({ left, top, right, bottom });
const input = (over: Partial<PlacementInput>): PlacementInput => ({
  viewport,
  expandedSize: { width: 260, height: 200 },
  collapsedSize: { width: 150, height: 30 },
  wantExpanded: true,
  current: null,
  content: { keep: [], text: [] },
  ...over,
});
// Where each corner's expanded legend sits in this viewport.
const at = {
  bottomRight: legendBox('bottom-right', { width: 260, height: 200 }, viewport),
  topRight: legendBox('top-right', { width: 260, height: 200 }, viewport),
  bottomLeft: legendBox('bottom-left', { width: 260, height: 200 }, viewport),
  topLeft: legendBox('top-left', { width: 260, height: 200 }, viewport),
};
const inside = (b: Box): Box => box(b.left + 10, b.top + 10, b.left + 40, b.top + 25);

describe('where the legend sits', () => {
  it('starts in the bottom-right corner, 12 px from the edges', () => {
    expect(at.bottomRight).toEqual(box(728, 588, 988, 788));
    expect(placeLegend(input({}))).toEqual({ corner: 'bottom-right', expanded: true, crowded: false });
  });

  it('moves off a link or the footer to the next free corner', () => {
    const link = inside(at.bottomRight);
    expect(placeLegend(input({ content: { keep: [link], text: [] } })).corner).toBe('top-right');
    expect(placeLegend(input({ content: { keep: [link, inside(at.topRight)], text: [] } })).corner).toBe('bottom-left');
  });

  it('prefers a corner free of text too, and covers text rather than a link when it must', () => {
    const text = [inside(at.bottomRight), inside(at.topRight), inside(at.bottomLeft)];
    expect(placeLegend(input({ content: { keep: [], text } })).corner).toBe('top-left');
    const all = [...text, inside(at.topLeft)];
    expect(placeLegend(input({ content: { keep: [inside(at.bottomRight)], text: all } }))).toEqual({ corner: 'top-right', expanded: true, crowded: false });
  });

  it('stays where it is while that corner is as good as any', () => {
    expect(placeLegend(input({ current: 'top-left' })).corner).toBe('top-left');
    expect(placeLegend(input({ current: 'top-left', content: { keep: [inside(at.topLeft)], text: [] } })).corner).toBe('bottom-right');
  });

  it('folds to a tab where the expanded legend would cover a link in every corner', () => {
    // Links across the whole lower and upper bands, leaving only the very corners' 150 × 30 free.
    const keep = [box(0, 60, 1000, 740), box(200, 0, 800, 800)];
    expect(placeLegend(input({ content: { keep, text: [] } }))).toEqual({ corner: 'bottom-right', expanded: false, crowded: true });
    // Folded by choice, it is not "crowded".
    expect(placeLegend(input({ wantExpanded: false }))).toEqual({ corner: 'bottom-right', expanded: false, crowded: false });
  });

  it('with no free place at all, covers the least of the links', () => {
    const keep = [box(0, 0, 1000, 790), box(0, 0, 500, 800)];
    expect(placeLegend(input({ content: { keep, text: [] } }))).toEqual({ corner: 'bottom-right', expanded: false, crowded: true });
  });
});

describe('the badge number', () => {
  const heat = { clicks: 6, unique: 5, share: 2 / 3 };
  it('is clicks, people or share of clicks, as the legend’s switch says', () => {
    expect(badgeNumber(heat, 'clicks')).toBe('6');
    expect(badgeNumber(heat, 'people')).toBe('5');
    expect(badgeNumber(heat, 'share')).toBe('67%');
    expect(badgeNumber({ clicks: 0, unique: 0, share: 0 }, 'share')).toBe('0%');
  });
});

describe('a legend unfolded where it has no room', () => {
  it('opens all the same, in the corner that hides the least of the links', () => {
    const keep = [box(0, 60, 1000, 740), box(200, 0, 800, 800), box(0, 0, 300, 800)];
    expect(placeLegend(input({ content: { keep, text: [] }, insist: true }))).toEqual({ corner: 'bottom-right', expanded: true, crowded: false });
    expect(placeLegend(input({ content: { keep, text: [] }, insist: true, current: 'top-right' })).corner).toBe('top-right');
  });
});
