import type { Box, MailContent } from './legend-placement.ts';

/** Where Gmail and Outlook on the web put a mail's own HTML: the whole of it, footer included. */
const MAIL_BODIES = '.a3s, [aria-label="Message body"]';
/** A mail's footer (address, unsubscribe, legal lines) sits in its last lines: this much of its bottom. */
const FOOTER_PX = 160;
/** One link alone says little about where its mail ends: its mail holds at least this much text. */
const MIN_MAIL_TEXT = 200;

function commonAncestor(elements: readonly Element[]): Element | null {
  let root: Element | null = elements[0] ?? null;
  for (const el of elements.slice(1)) while (root && !root.contains(el)) root = root.parentElement;
  return root;
}

/**
 * The element holding the mail the painted links belong to, on a page that is mostly
 * something else (a webmail client): the smallest one around all of them.
 */
export function findMailRoot(doc: Document, anchors: readonly Element[]): Element {
  const body = doc.body ?? doc.documentElement;
  let root = commonAncestor(anchors) ?? body;
  root = root.closest(MAIL_BODIES) ?? root;
  while (root !== body && root.parentElement && (root.textContent?.trim().length ?? 0) < MIN_MAIL_TEXT) root = root.parentElement;
  return root;
}

const INTERACTIVE = 'a[href], button, input, select, textarea';

const boxesOf = (rects: Iterable<DOMRect>): Box[] =>
  [...rects].filter((r) => r.width > 0 && r.height > 0).map((r) => ({ left: r.left, top: r.top, right: r.right, bottom: r.bottom }));

/** What of the mail is on screen now, for the legend to keep clear of (read only: nothing is changed). */
export function mailContent(root: Element, viewport: { width: number; height: number }): MailContent {
  const keep: Box[] = [];
  const text: Box[] = [];
  for (const el of root.querySelectorAll(INTERACTIVE)) {
    keep.push(...boxesOf(el.getClientRects()));
    // An image inside a link is the link, and often larger than the line the anchor reports.
    for (const img of el.querySelectorAll('img')) keep.push(...boxesOf(img.getClientRects()));
  }
  for (const img of root.querySelectorAll('img')) if (!img.closest(INTERACTIVE)) text.push(...boxesOf(img.getClientRects()));
  const doc = root.ownerDocument;
  const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const range = doc.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.nodeValue?.trim() || node.parentElement?.closest(INTERACTIVE)) continue;
    range.selectNodeContents(node);
    text.push(...boxesOf(range.getClientRects()));
  }
  const end = Math.max(...keep.map((b) => b.bottom), ...text.map((b) => b.bottom));
  const footer = text.filter((b) => b.top >= end - FOOTER_PX);
  const onScreen = (b: Box) => b.right > 0 && b.bottom > 0 && b.left < viewport.width && b.top < viewport.height;
  return { keep: [...keep, ...footer].filter(onScreen), text: text.filter((b) => !footer.includes(b) && onScreen(b)) };
}
