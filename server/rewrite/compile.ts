import { html as p5, parse, type DefaultTreeAdapterTypes as P5 } from 'parse5';
import { hasMergeTag, splitMergeTags, wholeMergeTag } from './merge-tags.ts';
import type { CompiledLink, CompiledMessage, CompileOptions, Segment, UntrackedReason } from './template.ts';

const HTTP = /^https?:\/\//i;
/** A URL in plain text ends at whitespace or `<>"`; trailing punctuation belongs to the sentence. */
const TEXT_URL = /https?:\/\/[^\s<>"]+/gi;
const TRAILING_PUNCT = /[.,;:!?)\]'"]+$/;

/** A span of the source replaced by slots (zero-width for the footer). */
interface Cut {
  start: number;
  end: number;
  segs: Segment[];
}

interface Anchor {
  el: P5.Element;
  start: number;
  text: string;
  alt: string | null;
}

export function compileMessage(html: string, text: string | null, opts: CompileOptions): CompiledMessage {
  const domains = opts.universalLinkDomains.map((d) => d.trim().toLowerCase().replace(/^\*?\./, '')).filter(Boolean);
  const { anchors, bodyEnd } = findAnchors(html);
  const links: CompiledLink[] = [];
  const cuts: Cut[] = [];

  for (const a of anchors) {
    const index = links.length;
    const url = (a.el.attrs.find((x) => x.name === 'href')?.value ?? '').trim();
    const optOut = a.el.attrs.some((x) => x.name === 'data-clicktrail' && x.value.trim().toLowerCase() === 'off');
    const reason = classify(url, optOut, opts, domains);
    const linkText = collapse(a.text) || collapse(a.alt ?? '');
    links.push({
      position: index,
      url,
      text: linkText.length > 200 ? linkText.slice(0, 200).trimEnd() : linkText,
      tracked: !reason,
      ...(reason && { reason }),
      part: 'html',
    });

    const loc = a.el.sourceCodeLocation?.attrs?.href;
    const span = loc && hrefValueSpan(html, loc.startOffset, loc.endOffset);
    if (!span) continue;
    const raw = html.slice(span[0], span[1]);
    if (!reason) {
      cuts.push({ start: span[0], end: span[1], segs: [{ link: index, raw }] });
    } else if (hasMergeTag(raw)) {
      const segs = splitMergeTags(raw).map((p): Segment =>
        typeof p === 'string' ? p : { hrefMerge: p.name, fallback: p.fallback },
      );
      cuts.push({ start: span[0], end: span[1], segs });
    }
  }
  const footerAt = bodyEnd ?? html.length;
  cuts.push({ start: footerAt, end: footerAt, segs: [{ footer: true }] });

  const htmlSegs = assemble(html, cuts, (lit, out) => {
    for (const p of splitMergeTags(lit)) push(out, typeof p === 'string' ? p : { merge: p.name, fallback: p.fallback });
  });
  return { links, html: htmlSegs, text: text === null ? null : compileText(text, links, opts, domains) };
}

function compileText(text: string, links: CompiledLink[], opts: CompileOptions, domains: string[]): Segment[] {
  // url → link to point at, or null when the URL stays literal (an untracked link already names it).
  const byUrl = new Map<string, number | null>();
  // `{{action_url}}` written in the text part is the same link as `href="{{action_url}}"`.
  const byTag = new Map<string, number>();
  for (const [i, l] of links.entries()) {
    if (l.tracked) {
      if ((byUrl.get(l.url) ?? null) === null) byUrl.set(l.url, i);
      const tag = wholeMergeTag(l.url);
      if (tag && !byTag.has(tagKey(tag))) byTag.set(tagKey(tag), i);
    } else if (!byUrl.has(l.url)) {
      byUrl.set(l.url, null);
    }
  }

  const cuts: Cut[] = [];
  for (const m of text.matchAll(TEXT_URL)) {
    const url = m[0].replace(TRAILING_PUNCT, '');
    if (!HTTP.test(url)) continue; // nothing left after the scheme but punctuation
    let index = byUrl.get(url);
    if (index === undefined) {
      const reason = classify(url, false, opts, domains);
      index = reason ? null : links.length;
      byUrl.set(url, index);
      links.push({ position: links.length, url, text: '', tracked: !reason, ...(reason && { reason }), part: 'text' });
    }
    if (index !== null) cuts.push({ start: m.index, end: m.index + url.length, segs: [{ link: index, raw: url }] });
  }

  return assemble(text, cuts, (lit, out) => {
    for (const p of splitMergeTags(lit)) {
      if (typeof p === 'string') push(out, p);
      else {
        const link = byTag.get(tagKey(p));
        push(out, link === undefined ? { merge: p.name, fallback: p.fallback } : { link, raw: p.raw });
      }
    }
  });
}

function tagKey(t: { name: string; fallback: string }): string {
  return `${t.name}|${t.fallback}`;
}

function classify(url: string, optOut: boolean, opts: CompileOptions, domains: string[]): UntrackedReason | undefined {
  const whole = wholeMergeTag(url) !== null;
  if (!whole && !HTTP.test(url)) return 'not-http';
  // A fixed URL that does not parse can never become a working tracked link.
  if (!whole && !hasMergeTag(url) && !URL.canParse(url)) return 'not-http';
  if (optOut) return 'opt-out';
  if (!whole && domains.length > 0 && isUniversal(url, domains)) return 'universal-link';
  if (!opts.clickTracking) return 'tracking-off';
  return undefined;
}

function isUniversal(url: string, domains: string[]): boolean {
  // A merge tag in the host makes it unknowable here; such links stay tracked.
  if (!URL.canParse(url)) return false;
  const host = new URL(url).hostname;
  return domains.some((d) => host === d || host.endsWith(`.${d}`));
}

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** The value inside `href="…"`, `href='…'` or `href=…` (attribute span from parse5). */
function hrefValueSpan(html: string, start: number, end: number): [number, number] | null {
  const eq = html.indexOf('=', start);
  if (eq === -1 || eq >= end) return null; // bare `<a href>`
  let i = eq + 1;
  while (i < end && ' \t\n\r\f'.includes(html[i]!)) i++;
  const q = html[i];
  if (q === '"' || q === "'") return [i + 1, html[end - 1] === q && end - 1 > i ? end - 1 : end];
  return [i, end];
}

/**
 * `<a href>` elements of the HTML namespace in source order, and where `</body>` starts.
 * The tree builder may clone an anchor (reopening formatting elements); clones that keep the
 * source location are the same anchor and their text is joined, clones without one are skipped.
 */
function findAnchors(html: string): { anchors: Anchor[]; bodyEnd: number | undefined } {
  const doc = parse(html, { sourceCodeLocationInfo: true });
  const byStart = new Map<number, Anchor>();
  let bodyEnd: number | undefined;

  const walk = (node: P5.ParentNode, current: Anchor | null): void => {
    for (const child of node.childNodes) {
      if (child.nodeName === '#text') {
        if (current) current.text += (child as P5.TextNode).value;
        continue;
      }
      if (!('tagName' in child)) continue; // comments (MSO conditionals included), doctype
      let inside = current;
      const start = child.sourceCodeLocation?.startTag?.startOffset;
      if (child.tagName === 'a' && child.namespaceURI === p5.NS.HTML && start !== undefined && child.attrs.some((x) => x.name === 'href')) {
        inside = byStart.get(start) ?? { el: child, start, text: '', alt: null };
        byStart.set(start, inside);
      } else if (child.tagName === 'img' && current && current.alt === null) {
        current.alt = child.attrs.find((x) => x.name === 'alt')?.value ?? '';
      } else if (child.tagName === 'body' && child.sourceCodeLocation?.endTag) {
        bodyEnd = child.sourceCodeLocation.endTag.startOffset;
      }
      walk(child, inside);
      if (child.tagName === 'template') walk((child as P5.Template).content, inside);
    }
  };
  walk(doc, null);
  return { anchors: [...byStart.values()].sort((x, y) => x.start - y.start), bodyEnd };
}

/** Literal runs between cuts go through `literal`; cuts contribute their slots. */
function assemble(src: string, cuts: Cut[], literal: (s: string, out: Segment[]) => void): Segment[] {
  cuts.sort((a, b) => a.start - b.start);
  const out: Segment[] = [];
  let pos = 0;
  for (const c of cuts) {
    if (c.start > pos) literal(src.slice(pos, c.start), out);
    for (const s of c.segs) push(out, s);
    pos = c.end;
  }
  if (pos < src.length) literal(src.slice(pos), out);
  return out;
}

/** Adjacent literal runs are one string: fewer pieces to join per recipient. */
function push(out: Segment[], s: Segment): void {
  if (typeof s === 'string' && typeof out[out.length - 1] === 'string') out[out.length - 1] += s;
  else out.push(s);
}
