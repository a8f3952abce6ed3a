/**
 * What a template's clickable links and tags are, worked out here independently of the
 * rewriter (parse5's plain trees and regular expressions), for the fixture tests to compare with.
 */
import { parse, parseFragment, type DefaultTreeAdapterTypes as P5 } from 'parse5';
import type { MergeValues } from '../../server/rewrite/template.ts';

export interface Clickable {
  /** Element name: `a`, `area`, `v:roundrect`… */
  tag: string;
  /** The href as a client reads it: entities decoded, trimmed. */
  href: string;
  /** The href's value exactly as written. */
  raw: string;
  /** Offset of its start tag in the source. */
  start: number;
  /** Inside a downlevel-hidden conditional comment (`<!--[if mso]>…<![endif]-->`), or a VML shape. */
  outlookOnly: boolean;
}

/** `<!--[if …]>…<![endif]-->` whose inside is one comment (no `-->` in it): what Outlook renders and others skip. */
const HIDDEN = /<!--\[if [^\]>]*\]>((?:(?!-->)[^])*?)<!\[endif\]-->/g;

function collect(node: P5.ParentNode, src: string, offset: number, inComment: boolean, out: Clickable[]): void {
  for (const c of node.childNodes) {
    if (!('tagName' in c)) continue;
    const loc = c.sourceCodeLocation;
    const href = c.attrs.find((a) => a.name === 'href');
    if (href && loc?.attrs?.href && (c.tagName === 'a' || c.tagName === 'area' || c.tagName.startsWith('v:'))) {
      const at = loc.attrs.href;
      const written = /^[^=]*=\s*(?:"([^"]*)"|'([^']*)'|(.*))$/s.exec(src.slice(offset + at.startOffset, offset + at.endOffset));
      out.push({
        tag: c.tagName,
        href: href.value.trim(),
        raw: written ? (written[1] ?? written[2] ?? written[3]!) : '',
        start: offset + loc.startOffset,
        outlookOnly: inComment || c.tagName.startsWith('v:'),
      });
    }
    collect(c, src, offset, inComment, out);
  }
}

/** Every element with an href a reader can click in some client, in source order; and the first `<base href>`. */
export function clickablesOf(src: string): { clickables: Clickable[]; base: string | null } {
  const out: Clickable[] = [];
  const doc = parse(src, { sourceCodeLocationInfo: true });
  collect(doc, src, 0, false, out);
  for (const m of src.matchAll(HIDDEN)) {
    const innerAt = m.index + m[0].indexOf(']>') + 2;
    collect(parseFragment(m[1]!, { sourceCodeLocationInfo: true }), src, innerAt, true, out);
  }
  // Anchors the tree builder reopened appear twice with one start.
  const unique = [...new Map(out.map((c) => [c.start, c])).values()].sort((a, b) => a.start - b.start);
  const base = /<base\s[^>]*href="([^"]*)"/i.exec(src)?.[1] ?? null;
  return { clickables: unique, base };
}

/** The bare names the fixtures use as other senders' tags (README): the test recipient has none of them. */
export const OTHER_SENDERS_BARE = new Set(['Subject_Line', 'Weblink', 'Sender_Name', 'Sender_Address', 'Sender_City', 'UnsubscribeURL', 'MessageURL', 'TrackView', 'unsubscribe']);

const KEYWORDS = new Set(['else', 'end', 'if', 'range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil', 'this', 'true', 'false', 'null', 'undefined']);
const FIELDS = new Set(['first_name', 'last_name', 'name', 'email']);
/** A double-brace tag that is not part of a triple one, with its name and fallback. */
const DOUBLE = /(?<!\{)\{\{\s*([^{}|\s]+)\s*(\|[^{}]*)?\}\}(?!\})/g;

type Kind = 'field' | 'attribute' | 'bare' | null;
function kindOf(name: string): Kind {
  if (FIELDS.has(name)) return 'field';
  if (/^attributes\.[\w.-]+$/.test(name)) return 'attribute';
  if (/^[A-Za-z_]\w*$/.test(name) && !KEYWORDS.has(name)) return 'bare';
  return null;
}

export const FIXTURE_NAME = 'Ann Lee';
export const FIXTURE_EMAIL = 'ann+beans@example.com';

/** A value for every tag of ours a template uses, as a recipient would bring them; plain letters and digits, or URLs. */
export function fixtureRecipient(src: string): MergeValues {
  const attributes: Record<string, string> = {};
  for (const m of src.matchAll(DOUBLE)) {
    const kind = kindOf(m[1]!);
    const name = m[1]!.replace(/^attributes\./, '');
    if (kind === 'attribute' || (kind === 'bare' && !OTHER_SENDERS_BARE.has(name))) {
      attributes[name] = name.endsWith('_url') ? `https://example.com/${name}` : `v${name.replace(/[^A-Za-z0-9]/g, '')}`;
    }
  }
  return { email: FIXTURE_EMAIL, name: FIXTURE_NAME, attributes };
}

/**
 * The tags of ours in `s` filled as the README says: fields and `attributes.X` always (empty
 * when missing, or the fallback), a bare `{{X}}` only for a recipient who has X.
 * `encode` is applied to each value (not to fallbacks, which are template source).
 */
export function fillOurs(s: string, v: MergeValues, encode: (x: string) => string = (x) => x): string {
  return s.replace(DOUBLE, (whole, name: string, fb: string | undefined) => {
    const kind = kindOf(name);
    if (!kind) return whole;
    const fallback = fb ? fb.slice(1).trim() : '';
    const key = name.replace(/^attributes\./, '');
    if (kind === 'bare' && !fb && v.attributes[key] == null) return whole;
    const value =
      name === 'email' ? v.email : name === 'name' ? (v.name ?? '') : name === 'first_name' ? (v.name ?? '').split(' ')[0]! : name === 'last_name' ? (v.name ?? '').split(' ').slice(1).join(' ') : String(v.attributes[key] ?? '');
    return value === '' ? fallback : encode(value);
  });
}

/** Whether a destination holds another template language's syntax (README's list). */
export function foreignIn(url: string): boolean {
  for (const m of url.matchAll(/\{\{([^]*?)\}\}/g)) {
    const inner = /^\s*([^{}|\s]+)\s*(\|[^{}]*)?$/.exec(m[1]!);
    if (url[m.index + m[0].length] === '}' || m[1]!.startsWith('{') || !inner || !kindOf(inner[1]!)) return true;
  }
  return /\*\|[^|]+\|\*|<%[^]*%>|\{%[^]*%\}|\$\{[^}]+\}|(^|[^\w\]])\[[A-Za-z_%][^\]]*\]|%%?[A-Za-z_][\w.:-]*[G-Zg-z_.:-][\w.:-]*%/.test(url);
}

/** Whether a template writes this destination so that we track it: http(s) or one tag of ours, nothing foreign. */
export function trackable(url: string): boolean {
  if (foreignIn(url)) return false;
  const whole = /^\{\{\s*([^{}|\s]+)\s*(\|[^{}]*)?\}\}$/.exec(url);
  return /^https?:\/\//i.test(url) || (whole !== null && kindOf(whole[1]!) !== null);
}

/** Where a clickable leads, resolved against `<base href>` as a browser does, tags filled. */
export function resolvedFilled(href: string, base: string | null, v: MergeValues): string {
  const filled = fillOurs(href, v);
  if (!base || filled === '' || filled.startsWith('#') || /^[a-z][a-z0-9+.-]*:/i.test(filled) || filled.startsWith('{{') || foreignIn(href)) return filled;
  return new URL(filled, base).href;
}
