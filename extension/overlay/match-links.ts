import { trackedLinkShape } from '../../api/tracked-links.ts';
import type { LinkPlacement, ResolvedLink } from '../../api/types.ts';

/** One anchor of the page, tied to the link placement it stands for. */
export interface MatchedAnchor {
  /** Index into the anchors the match was made from. */
  anchor: number;
  messageId: number;
  linkId: number;
}

/** The hrefs worth asking the server about: tracked-link shaped, directly or inside a mail client's wrapper; each once. */
export function trackedCandidates(hrefs: readonly string[]): string[] {
  return [...new Set(hrefs.filter((href) => trackedLinkShape(href) !== null))];
}

/**
 * Every anchor whose href the server recognised, in page order. Two anchors are two
 * paints even when they carry the same URL, so a link repeated in a mail (or a mail shown
 * twice in a thread) is painted wherever it appears.
 */
export function matchResolved(hrefs: readonly string[], resolved: readonly ResolvedLink[]): MatchedAnchor[] {
  const byUrl = new Map(resolved.map((r) => [r.url, r]));
  const out: MatchedAnchor[] = [];
  hrefs.forEach((href, anchor) => {
    const hit = byUrl.get(href);
    if (hit) out.push({ anchor, messageId: hit.messageId, linkId: hit.linkId });
  });
  return out;
}

/**
 * The message's own HTML (the extension's message view) has the author's untracked URLs,
 * so anchors are matched by their order: a placement's position is its index among the
 * `<a href>` of the HTML part.
 */
export function matchByPosition(anchorCount: number, messageId: number, links: readonly LinkPlacement[]): MatchedAnchor[] {
  const out: MatchedAnchor[] = [];
  for (const link of links) {
    if (link.part === 'html' && link.tracked && link.position < anchorCount) {
      out.push({ anchor: link.position, messageId, linkId: link.id });
    }
  }
  return out.sort((a, b) => a.anchor - b.anchor);
}
