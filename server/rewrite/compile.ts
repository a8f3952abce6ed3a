import { LinkifyIt } from 'linkify-it';
import { html as p5, parse, parseFragment, type DefaultTreeAdapterTypes as P5 } from 'parse5';
import type { PushContent } from '../../api/types.ts';
import { foreignSyntax, scanTags, splitMergeTags, UNSUBSCRIBE_TAG, wholeMergeTag, type MergeTag } from './merge-tags.ts';
import { textOfHtml } from './plain-text.ts';
import { schemeOf } from './render.ts';
import type { CompiledLink, CompiledMessage, CompiledTag, CompileOptions, Segment, TagWarning, UntrackedReason } from './template.ts';

const HTTP = /^https?:\/\//i;
const MAX_WARNINGS = 200;
const MAX_PLACES = 10;

/**
 * The text part's URLs, found as linkifiers find them: balanced brackets stay in the URL
 * (`…/Foo_(bar)`), a closing one the URL did not open and trailing punctuation do not.
 * Only http(s) with a scheme: a bare `shop.test` in prose is the reader's client's guess, not a link we wrote.
 */
const linkify = new LinkifyIt({ fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false, urlAuth: true })
  .add('ftp:', null)
  .add('//', null)
  .add('mailto:', null);

/** A span of the source replaced by slots (zero-width for the footer). */
interface Cut {
  start: number;
  end: number;
  segs: Segment[];
}

/** An element a reader can click: `<a href>`, `<area href>`, or a VML shape with `href`. */
interface Clickable {
  /** Where its start tag begins in the source. */
  start: number;
  /** Where the element ends (its end tag, or where the parser closed it). */
  end: number;
  attrs: P5.Element['attrs'];
  /** The href value's bytes in the source; null for a bare `href`. */
  span: [number, number] | null;
  text: string;
  alt: string | null;
  /** Shown by Outlook alone: inside a downlevel-hidden conditional comment (Outlook and old IE render those), or VML anywhere. */
  outlookOnly: boolean;
}

const universalDomains = (opts: CompileOptions) => opts.universalLinkDomains.map((d) => d.trim().toLowerCase().replace(/^\*?\./, '')).filter(Boolean);

export function compileMessage(html: string, text: string | null, opts: CompileOptions, subject: string | null = null): CompiledMessage {
  const domains = universalDomains(opts);
  const found = findClickables(html);
  const base = found.base !== null && HTTP.test(found.base) && URL.canParse(found.base) && scanTags(found.base).length === 0 ? found.base : null;
  const links: CompiledLink[] = [];
  const cuts: Cut[] = [];
  /** Each href value's span and its link, for telling where a tag is written. */
  const hrefSpans: { start: number; end: number; link: number }[] = [];
  let prev: { c: Clickable; link: number } | null = null;

  for (const c of found.clickables) {
    const written = (c.attrs.find((x) => x.name === 'href')?.value ?? '').trim();
    const url = base ? resolveAgainst(written, base) : written;
    const optOut = c.attrs.some((x) => x.name === 'data-clicktrail' && x.value.trim().toLowerCase() === 'off');
    const reason = classify(url, optOut, opts, domains);

    let index: number;
    const twin = prev && links[prev.link]!;
    if (prev && twin && twin.url === url && twin.reason === reason && onePlacement(html, prev.c, c)) {
      // The reader's client shows one of the two, so a click on either is the same placement.
      index = prev.link;
      if (!twin.text) twin.text = linkText(c);
    } else {
      index = links.length;
      links.push({ position: index, url, text: linkText(c), tracked: !reason, ...(reason && { reason }), part: 'html' });
    }
    prev = { c, link: index };

    if (!c.span) continue;
    const [start, end] = c.span;
    hrefSpans.push({ start, end, link: index });
    const raw = html.slice(start, end);
    if (!reason) {
      cuts.push({ start, end, segs: [{ link: index, raw }] });
    } else {
      const parts = splitMergeTags(raw);
      if (parts.some((p) => typeof p !== 'string')) {
        cuts.push({ start, end, segs: parts.map((p): Segment => (typeof p === 'string' ? p : { hrefMerge: p.name, fallback: p.fallback, ...asWritten(p) })) });
      }
    }
  }
  const footerAt = found.bodyEnd ?? html.length;
  cuts.push({ start: footerAt, end: footerAt, segs: [{ footer: true }] });

  const notes = new Notes();
  if (subject !== null) for (const o of scanTags(subject)) notes.add(o.raw, o.tag, 'subject', false);
  noteTags(notes, html, 'html', hrefSpans, found.plainComments);
  for (const l of links) {
    // Another ESP's syntax matters only where it stops a link being ours; `{{…}}` is noted above.
    const other = l.reason === 'foreign-tag' ? foreignSyntax(l.url) : null;
    if (other && !other.startsWith('{{')) notes.add(other, null, `link ${l.position}`, false);
  }

  const htmlSegs = assemble(html, cuts, (lit, out) => {
    for (const p of splitMergeTags(lit)) push(out, typeof p === 'string' ? p : { merge: p.name, fallback: p.fallback, ...asWritten(p) });
  });
  // A text part made from the HTML has the HTML's tags in it: they are noted (and warned of) once, there.
  const derived = text === null && opts.textFromHtml ? textOfHtml(html, base ? (href) => resolveAgainst(href.trim(), base) : undefined) : null;
  const textSegs =
    text !== null ? compileText(text, links, opts, domains, notes) : derived !== null ? compileText(derived, links, opts, domains, new Notes()) : null;
  return { links, html: htmlSegs, text: textSegs, warnings: notes.warnings(), tags: notes.tags() };
}

function asWritten(t: MergeTag): { asWritten?: string } {
  return t.bare ? { asWritten: t.raw } : {};
}

function linkText(c: Clickable): string {
  const t = collapse(c.text) || collapse(c.alt ?? '');
  return t.length > 200 ? t.slice(0, 200).trimEnd() : t;
}

/**
 * Two clickables that a reader sees as one: a VML button in Outlook's conditional comment
 * and the `<a>` fallback beside it (before or after, with only markup and blanks between),
 * or one nested in the other. Two real anchors side by side (an image and its caption) stay
 * two: every client shows both.
 */
function onePlacement(html: string, a: Clickable, b: Clickable): boolean {
  if (b.start < a.end) return true;
  if (a.outlookOnly === b.outlookOnly) return false;
  if (b.start - a.end > 4000) return false;
  return /^\s*$/.test(html.slice(a.end, b.start).replace(/<[^>]*>/g, ''));
}

/**
 * A relative href under `<base href>`, resolved as the reader's client does. Fragment-only
 * hrefs stay in-page anchors, and our tags stay tags: the URL parser would percent-encode
 * their braces, so they stand aside as placeholders while it resolves.
 */
function resolveAgainst(href: string, base: string): string {
  if (href === '' || href.startsWith('#') || schemeOf(href) !== null || href.startsWith('{{') || foreignSyntax(href) !== null) return href;
  const parts = splitMergeTags(href);
  const tags: string[] = [];
  const masked = parts.map((p) => (typeof p === 'string' ? p : `__ct${tags.push(p.raw) - 1}__`)).join('');
  if (!URL.canParse(masked, base)) return href;
  return new URL(masked, base).href.replace(/__ct(\d+)__/g, (_, i: string) => tags[Number(i)]!);
}

function compileText(text: string, links: CompiledLink[], opts: CompileOptions, domains: string[], notes: Notes): Segment[] {
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

  // Tags may hold blanks (`{{ attributes.id }}`), where a linkifier would end the URL:
  // letters of the same length stand in for them while it looks.
  const tagsInText = scanTags(text);
  let masked = text;
  if (tagsInText.length) {
    let s = '';
    let pos = 0;
    for (const o of tagsInText) {
      s += text.slice(pos, o.index) + 'x'.repeat(o.raw.length);
      pos = o.index + o.raw.length;
    }
    masked = s + text.slice(pos);
  }

  const cuts: Cut[] = [];
  const spans: { start: number; end: number; link: number }[] = [];
  for (const m of linkify.match(masked) ?? []) {
    const url = text.slice(m.index, m.lastIndex);
    let index = byUrl.get(url);
    if (index === undefined) {
      const reason = classify(url, false, opts, domains);
      index = reason ? null : links.length;
      byUrl.set(url, index);
      links.push({ position: links.length, url, text: '', tracked: !reason, ...(reason && { reason }), part: 'text' });
      const other = reason === 'foreign-tag' ? foreignSyntax(url) : null;
      if (other && !other.startsWith('{{')) notes.add(other, null, `link ${links.length - 1}`, false);
    }
    if (index !== null) cuts.push({ start: m.index, end: m.lastIndex, segs: [{ link: index, raw: url }] });
    const named = index ?? links.findIndex((l) => l.url === url);
    if (named !== -1) spans.push({ start: m.index, end: m.lastIndex, link: named });
  }
  noteTags(notes, text, 'text', spans, []);

  return assemble(text, cuts, (lit, out) => {
    for (const p of splitMergeTags(lit)) {
      if (typeof p === 'string') push(out, p);
      else {
        const link = byTag.get(tagKey(p));
        push(out, link === undefined ? { merge: p.name, fallback: p.fallback, ...asWritten(p) } : { link, raw: p.raw });
      }
    }
  });
}

function tagKey(t: { name: string; fallback: string }): string {
  return `${t.name}|${t.fallback}`;
}

/**
 * The scheme of a destination an in-app card or a push may not have: neither http(s) nor one
 * of settings.deepLinkSchemes (mailto:, javascript:, another app's). null when it may, and for
 * links with no scheme (anchors, relative links, a whole tag of ours).
 */
export function refusedScheme(url: string, deepLinkSchemes: readonly string[]): string | null {
  const scheme = schemeOf(url);
  return scheme === null || scheme === 'http' || scheme === 'https' || deepLinkSchemes.includes(scheme) ? null : scheme;
}

function classify(url: string, optOut: boolean, opts: CompileOptions, domains: string[]): UntrackedReason | undefined {
  // The recipient's way out goes straight to us: a tracked link would count it as a click.
  if (splitMergeTags(url).some((p) => typeof p !== 'string' && p.name === UNSUBSCRIBE_TAG)) return 'unsubscribe';
  const whole = wholeMergeTag(url) !== null;
  const web = HTTP.test(url);
  if (!whole) {
    const app = !web && (opts.deepLinkSchemes ?? []).includes(schemeOf(url) ?? '');
    // A destination that is another language's tag, or a URL of ours holding one: once the
    // link is ours, that language could no longer fill it.
    const foreign = foreignSyntax(url);
    if (foreign && (web || app || url.startsWith(foreign))) return 'foreign-tag';
    if (!web && !app) return 'not-http';
    // A fixed URL that does not parse can never become a working tracked link.
    if (splitMergeTags(url).every((p) => typeof p === 'string') && !URL.canParse(url)) return 'not-http';
  }
  if (optOut) return 'opt-out';
  // Universal links are web links: an app's own scheme opens the app anyway.
  if (!whole && web && domains.length > 0 && isUniversal(url, domains)) return 'universal-link';
  if (!opts.clickTracking) return 'tracking-off';
  return undefined;
}

/**
 * A push message: its uri is its one link placement (`text` part, the title its text),
 * tracked or not as a link in a message would be; the title and body are the subject's kind
 * of text, their tags filled per recipient.
 */
export function compilePush(push: PushContent, opts: CompileOptions): CompiledMessage {
  const domains = universalDomains(opts);
  const reason = classify(push.uri, false, opts, domains);
  const links: CompiledLink[] = [{ position: 0, url: push.uri, text: push.title, tracked: !reason, ...(reason && { reason }), part: 'text' }];
  const notes = new Notes();
  for (const [where, s] of [['push title', push.title], ['push body', push.body], ['push uri', push.uri]] as const) {
    for (const o of scanTags(s)) notes.add(o.raw, o.tag, where, false);
  }
  const text: Segment[] = reason
    ? splitMergeTags(push.uri).map((p): Segment => (typeof p === 'string' ? p : { hrefMerge: p.name, fallback: p.fallback, ...asWritten(p) }))
    : [{ link: 0, raw: push.uri }];
  return { links, html: [], text, warnings: notes.warnings(), tags: notes.tags() };
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

interface Found {
  clickables: Clickable[];
  bodyEnd: number | undefined;
  /** The first `<base href>`, entities decoded. */
  base: string | null;
  /** Comments no client renders: their tags are filled but never reported missing. */
  plainComments: [number, number][];
}

const CONDITIONAL_OPEN = /^<!--\[if [^\]>]*\]>/;
const CONDITIONAL_CLOSE = '<![endif]-->';

/**
 * Every clickable element in source order, and where `</body>` starts. parse5 leaves the
 * inside of `<!--[if mso]>…<![endif]-->` a comment, but Outlook renders it as HTML: it is
 * parsed again as a fragment, its offsets moved back onto the source, so its hrefs are cut
 * out of the same bytes as any other.
 * The tree builder may clone an anchor (reopening formatting elements); clones that keep the
 * source location are the same anchor and their text is joined, clones without one are skipped.
 */
function findClickables(html: string): Found {
  // Mail clients run no scripts, so they render what <noscript> holds: parse it as they do.
  const doc = parse(html, { sourceCodeLocationInfo: true, scriptingEnabled: false });
  const byStart = new Map<number, Clickable>();
  const plainComments: [number, number][] = [];
  let bodyEnd: number | undefined;
  let base: string | null = null;

  const walk = (node: P5.ParentNode, current: Clickable | null, offset: number, inComment: boolean): void => {
    for (const child of node.childNodes) {
      if (child.nodeName === '#text') {
        if (current) current.text += (child as P5.TextNode).value;
        continue;
      }
      if (child.nodeName === '#comment') {
        if (!inComment) conditional(child as P5.CommentNode);
        continue;
      }
      if (!('tagName' in child)) continue; // doctype
      let inside = current;
      const loc = child.sourceCodeLocation;
      const start = loc?.startTag?.startOffset;
      const name = child.tagName;
      const clickable = child.namespaceURI === p5.NS.HTML && (name === 'a' || name === 'area' || name.startsWith('v:'));
      if (clickable && loc && start !== undefined && child.attrs.some((x) => x.name === 'href')) {
        const end = offset + (loc.endTag?.endOffset ?? loc.endOffset);
        const at = loc.attrs?.href;
        const span = at ? hrefValueSpan(html, offset + at.startOffset, offset + at.endOffset) : null;
        const known = byStart.get(offset + start);
        if (known) known.end = Math.max(known.end, end);
        inside = known ?? {
          start: offset + start,
          end,
          attrs: child.attrs,
          span,
          text: '',
          alt: name === 'area' ? (child.attrs.find((x) => x.name === 'alt')?.value ?? '') : null,
          outlookOnly: inComment || name.startsWith('v:'),
        };
        byStart.set(offset + start, inside);
      } else if (name === 'img' && current && current.alt === null) {
        current.alt = child.attrs.find((x) => x.name === 'alt')?.value ?? '';
      } else if (name === 'base' && base === null && !inComment) {
        const href = child.attrs.find((x) => x.name === 'href');
        if (href) base = href.value.trim();
      } else if (name === 'body' && !inComment && loc?.endTag) {
        bodyEnd = loc.endTag.startOffset;
      }
      walk(child, inside, offset, inComment);
      if (name === 'template') walk((child as P5.Template).content, inside, offset, inComment);
    }
  };

  const conditional = (node: P5.CommentNode): void => {
    const loc = node.sourceCodeLocation;
    if (!loc) return;
    const source = html.slice(loc.startOffset, loc.endOffset);
    const open = CONDITIONAL_OPEN.exec(source);
    if (!open || !source.endsWith(CONDITIONAL_CLOSE) || open[0].length > source.length - CONDITIONAL_CLOSE.length) {
      plainComments.push([loc.startOffset, loc.endOffset]);
      return;
    }
    const innerStart = loc.startOffset + open[0].length;
    const inner = html.slice(innerStart, loc.endOffset - CONDITIONAL_CLOSE.length);
    // Most of them are ghost-table scaffolding; only ones that can hold a link are parsed.
    if (!/href/i.test(inner)) return;
    walk(parseFragment(inner, { sourceCodeLocationInfo: true, scriptingEnabled: false }), null, innerStart, true);
  };

  walk(doc, null, 0, false);
  plainComments.sort((x, y) => x[0] - y[0]);
  return { clickables: [...byStart.values()].sort((x, y) => x.start - y.start), bodyEnd, base, plainComments };
}

/** Tags the author should hear about, and ours without a fallback, with where they are written. */
class Notes {
  private readonly warned = new Map<string, { reason: TagWarning['reason']; places: string[]; count: number }>();
  private readonly needed = new Map<string, { tag: MergeTag; places: string[]; count: number }>();

  add(raw: string, tag: MergeTag | null, where: string, hidden: boolean): void {
    if (!tag || tag.bare) {
      const key = `${tag ? 'a' : 'f'}${raw}`;
      const w = this.warned.get(key) ?? (this.warned.size < MAX_WARNINGS ? { reason: tag ? 'attribute' : 'foreign', places: [], count: 0 } : null);
      if (w) {
        this.warned.set(key, w);
        place(w, where);
      }
    }
    if (tag && !tag.fallback && !hidden && tag.name !== UNSUBSCRIBE_TAG) {
      const n = this.needed.get(raw) ?? { tag, places: [], count: 0 };
      this.needed.set(raw, n);
      place(n, where);
    }
  }

  warnings(): TagWarning[] {
    return [...this.warned].map(([key, w]) => ({ tag: key.slice(1), where: placesText(w), reason: w.reason }));
  }

  tags(): CompiledTag[] {
    return [...this.needed].map(([raw, n]) => ({ tag: raw, name: n.tag.name, bare: n.tag.bare, where: placesText(n) }));
  }
}

function place(p: { places: string[]; count: number }, where: string): void {
  if (p.places.at(-1) === where) return; // one line, one mention
  p.count++;
  if (p.places.length < MAX_PLACES) p.places.push(where);
}

function placesText(p: { places: string[]; count: number }): string {
  return p.places.join(', ') + (p.count > p.places.length ? `, and ${p.count - p.places.length} more` : '');
}

/** Notes every `{{…}}` of one part, saying which line, and which link when it is in a destination. */
function noteTags(notes: Notes, src: string, part: 'html' | 'text', spans: { start: number; end: number; link: number }[], hidden: [number, number][]): void {
  const found = scanTags(src);
  if (!found.length) return;
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let s = 0;
  let h = 0;
  let line = 1;
  let lineAt = 0;
  for (const o of found) {
    for (let i = src.indexOf('\n', lineAt); i !== -1 && i < o.index; i = src.indexOf('\n', i + 1)) {
      line++;
      lineAt = i + 1;
    }
    while (s < sorted.length && sorted[s]!.end <= o.index) s++;
    while (h < hidden.length && hidden[h]![1] <= o.index) h++;
    const inLink = s < sorted.length && sorted[s]!.start <= o.index ? sorted[s]!.link : null;
    const where = inLink === null ? `${part} line ${line}` : `link ${inLink} (${part} line ${line})`;
    notes.add(o.raw, o.tag, where, h < hidden.length && hidden[h]![0] <= o.index);
  }
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
