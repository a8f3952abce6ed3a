/**
 * Where the legend sits: fixed in a corner of the page (or of the message view's frame),
 * never over the mail's own links or its footer. Covering body text is allowed only when
 * no corner is free of it; when even that is impossible, the legend folds to a small tab
 * that fits where the expanded one did not.
 */

export type Corner = 'bottom-right' | 'top-right' | 'bottom-left' | 'top-left';
export const CORNERS: readonly Corner[] = ['bottom-right', 'top-right', 'bottom-left', 'top-left'];

export interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface Size {
  width: number;
  height: number;
}

/** The mail's content on screen, in viewport coordinates. */
export interface MailContent {
  /** Links, buttons, form fields and the footer: never to be covered. */
  keep: readonly Box[];
  /** Body text and images: covered only when no corner is free of them. */
  text: readonly Box[];
}

export interface LegendPlacement {
  corner: Corner;
  expanded: boolean;
  /** Folded because no corner had room for it expanded (not the marketer's choice). */
  crowded: boolean;
}

/** Space kept between the legend and the edge of the viewport. */
export const LEGEND_MARGIN = 12;

export function legendBox(corner: Corner, size: Size, viewport: Size): Box {
  const left = corner.endsWith('left') ? LEGEND_MARGIN : viewport.width - LEGEND_MARGIN - size.width;
  const top = corner.startsWith('top') ? LEGEND_MARGIN : viewport.height - LEGEND_MARGIN - size.height;
  return { left, top, right: left + size.width, bottom: top + size.height };
}

const overlap = (a: Box, b: Box) => Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left)) * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
const covered = (box: Box, boxes: readonly Box[]) => boxes.reduce((sum, b) => sum + overlap(box, b), 0);

export interface PlacementInput {
  viewport: Size;
  expandedSize: Size;
  collapsedSize: Size;
  /** The marketer's choice: expanded unless they folded it. */
  wantExpanded: boolean;
  /** They unfolded it where it had no room: expanded all the same, where it hides the least. */
  insist?: boolean;
  /** Where it is now: it stays there while that corner is as good as any, so it doesn't hop about as the mail scrolls. */
  current: Corner | null;
  content: MailContent;
}

export function placeLegend({ viewport, expandedSize, collapsedSize, wantExpanded, insist, current, content }: PlacementInput): LegendPlacement {
  const order = current ? [current, ...CORNERS.filter((c) => c !== current)] : CORNERS;
  const fits = (size: Size, avoidText: boolean) =>
    order.find((c) => {
      const box = legendBox(c, size, viewport);
      return covered(box, content.keep) === 0 && (!avoidText || covered(box, content.text) === 0);
    });
  // Nowhere is free (a mail filling a small window): the corner that hides the least of what matters.
  const leastCovering = (size: Size) =>
    order.reduce((best, c) => (covered(legendBox(c, size, viewport), content.keep) < covered(legendBox(best, size, viewport), content.keep) ? c : best));
  if (wantExpanded) {
    const corner = fits(expandedSize, true) ?? fits(expandedSize, false) ?? (insist ? leastCovering(expandedSize) : undefined);
    if (corner) return { corner, expanded: true, crowded: false };
  }
  const corner = fits(collapsedSize, true) ?? fits(collapsedSize, false) ?? leastCovering(collapsedSize);
  return { corner, expanded: false, crowded: wantExpanded };
}
