import type { MergeValues } from './template.ts';

/**
 * Which `{{…}}` are ours. A template often carries another language's tags (Handlebars,
 * Go templates, an ESP's own), meant for whoever renders it after us; blanking them would
 * break it. So only these are filled:
 *
 * - `{{first_name}}`, `{{last_name}}`, `{{name}}`, `{{email}}`: the recipient's own fields;
 * - `{{unsubscribe_url}}`: the recipient's own unsubscribe link (a marketing email's; empty in others);
 * - `{{attributes.X}}`: the recipient's attribute X, for every recipient (empty when missing);
 * - `{{X | fallback}}`: attribute X or the fallback (the `|` fallback is our syntax);
 * - a bare `{{X}}` (X a plain name: a letter or `_`, then letters, digits, `_`; not a keyword
 *   of Go templates or Handlebars): attribute X for a recipient who has it (a value other
 *   than null), written exactly as it stands for one who does not.
 *
 * Anything else in double braces (`{{this.x}}`, `{{ .Name }}`, `{{Campaign-Source}}`,
 * `{{#if}}`, `{{{raw}}}`, `{{ end }}`) is not ours and stays exactly as written.
 * The bare form is decided per recipient because a message is compiled before it has any
 * recipients: at compose time `{{unsubscribe}}` may be an attribute or another ESP's tag,
 * and only the recipient data can say.
 */
export interface MergeTag {
  /** The name looked up: a field, `attributes.X`, or a bare X. */
  name: string;
  fallback: string;
  /** The tag as written, braces included. */
  raw: string;
  /** A bare `{{X}}` without fallback: filled only for a recipient who has attribute X. */
  bare: boolean;
}

/** The tag that writes a recipient's unsubscribe URL: never a tracked link, never missing (we fill it). */
export const UNSUBSCRIBE_TAG = 'unsubscribe_url';

export const FIELDS: ReadonlySet<string> = new Set(['first_name', 'last_name', 'name', 'email', UNSUBSCRIBE_TAG]);

// Words that are control flow or context in Go templates and Handlebars, never data.
const KEYWORDS = new Set(['else', 'end', 'if', 'range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil', 'this', 'true', 'false', 'null', 'undefined']);

/**
 * A triple-stash, or a double-brace tag whose inside holds no `{{`/`}}`. A tag directly
 * followed by another `}` (`{{x}}}`) belongs to someone else's syntax.
 */
const BRACES = /\{\{\{[^]*?\}\}\}|\{\{((?:(?!\{\{|\}\})[^])*)\}\}/g;
const OURS = /^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:\|([^{}]*))?$/;
const PLAIN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Classifies the inside of `{{…}}`: a tag of ours, or null for someone else's. */
function ourTag(inner: string, raw: string): MergeTag | null {
  const m = OURS.exec(inner);
  if (!m) return null;
  const name = m[1]!;
  const fallback = m[2];
  if (FIELDS.has(name)) return { name, fallback: (fallback ?? '').trim(), raw, bare: false };
  if (name.startsWith('attributes.') && name.length > 11) return { name, fallback: (fallback ?? '').trim(), raw, bare: false };
  if (!PLAIN.test(name) || KEYWORDS.has(name)) return null;
  return { name, fallback: (fallback ?? '').trim(), raw, bare: fallback === undefined };
}

export interface TagOccurrence {
  index: number;
  raw: string;
  /** null: not ours, left as written. */
  tag: MergeTag | null;
}

/** Every `{{…}}` in `s`, ours or not, in order. */
export function scanTags(s: string): TagOccurrence[] {
  const out: TagOccurrence[] = [];
  if (!s.includes('{{')) return out;
  for (const m of s.matchAll(BRACES)) {
    const raw = m[0];
    const followed = s.charCodeAt(m.index + raw.length) === 0x7d; // '}'
    const tag = m[1] === undefined || followed ? null : ourTag(m[1], raw);
    out.push({ index: m.index, raw, tag });
  }
  return out;
}

/** Cuts `s` into literal runs (exact slices, other languages' tags included) and our tags. */
export function splitMergeTags(s: string): (string | MergeTag)[] {
  const parts: (string | MergeTag)[] = [];
  let pos = 0;
  for (const o of scanTags(s)) {
    if (!o.tag) continue;
    if (o.index > pos) parts.push(s.slice(pos, o.index));
    parts.push(o.tag);
    pos = o.index + o.raw.length;
  }
  if (pos < s.length) parts.push(s.slice(pos));
  return parts;
}

export function hasMergeTag(s: string): boolean {
  return scanTags(s).some((o) => o.tag);
}

/** The tag when `s` (already trimmed) is exactly one tag of ours, else null. */
export function wholeMergeTag(s: string): MergeTag | null {
  const found = scanTags(s);
  return found.length === 1 && found[0]!.index === 0 && found[0]!.raw.length === s.length ? found[0]!.tag : null;
}

/**
 * Another template language's syntax where a link's destination is concerned: `{{…}}` that
 * is not ours, Mailchimp's `*|…|*`, Mailgun's and ActiveCampaign's `%…%`, SendGrid's
 * `[…]` and `<%…%>`, Liquid's `{%…%}`, FreeMarker's `${…}`. The first one found, or null.
 */
export function foreignSyntax(url: string): string | null {
  for (const o of scanTags(url)) if (!o.tag) return o.raw;
  for (const re of OTHER_SYNTAX) {
    const m = re.exec(url);
    if (m) return m[0];
  }
  return percentTag(url);
}

const OTHER_SYNTAX = [
  /\*\|[^|]{1,100}\|\*/,
  /<%[^]{0,200}?%>/,
  /\{%[^]{0,200}?%\}/,
  /\$\{[^{}]{1,100}\}/,
  // `[unsubscribe]`, `[firstname,fallback=]`: not `a[b]=` (form-style query keys) nor an IPv6 host.
  /(?<![A-Za-z0-9_\]])\[[A-Za-z_%][^[\]]{0,100}\]/,
];

// `%name%` (Marketing Cloud's `%%name%%` too), told from percent-escapes: `%C3%A9` is two escapes, `%date%` is a tag.
const PERCENT = /%%?([A-Za-z_][A-Za-z0-9_.:-]{0,100})%%?/g;
function percentTag(url: string): string | null {
  if (!url.includes('%')) return null;
  PERCENT.lastIndex = 0;
  for (let m = PERCENT.exec(url); m; m = PERCENT.exec(url)) {
    if (!/^[0-9A-Fa-f]+$/.test(m[1]!)) return m[0];
    PERCENT.lastIndex = m.index + 1;
  }
  return null;
}

/** What nobody's values fill a tag with: a test send rendered as no recipient, a test link's destination. */
export const NO_VALUES: MergeValues = { email: '', name: null, attributes: {} };

/** Whether a recipient has attribute `name` for a bare tag: a value other than null. */
export function hasAttribute(name: string, v: MergeValues): boolean {
  return Object.hasOwn(v.attributes, name) && v.attributes[name] != null;
}

/** The recipient's value for a tag name, '' when missing, null or empty (the caller applies the fallback). */
export function lookup(name: string, v: MergeValues): string {
  let raw: unknown;
  switch (name) {
    case 'email':
      raw = v.email;
      break;
    case 'name':
      raw = v.name;
      break;
    case UNSUBSCRIBE_TAG:
      raw = v.unsubscribeUrl;
      break;
    case 'first_name':
    case 'last_name': {
      const m = /^(\S+)\s*([^]*)$/.exec((v.name ?? '').trim());
      raw = m ? (name === 'first_name' ? m[1] : m[2]) : '';
      break;
    }
    default: {
      const key = name.startsWith('attributes.') ? name.slice(11) : name;
      // hasOwn: `{{constructor}}` must not reach Object.prototype.
      raw = Object.hasOwn(v.attributes, key) ? v.attributes[key] : undefined;
    }
  }
  return raw == null ? '' : String(raw);
}

/** What a tag of ours becomes for this recipient, before escaping; null: leave the tag as written. */
export function tagValue(tag: Pick<MergeTag, 'name' | 'fallback' | 'bare'>, v: MergeValues): string | null {
  if (tag.bare && !hasAttribute(tag.name, v)) return null;
  return lookup(tag.name, v) || tag.fallback;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return /[&<>"']/.test(s) ? s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!) : s;
}

/** A short string (a subject, a greeting) with its tags of ours filled as plain text: no compiled template needed. */
export function fillMergeTags(s: string, values: MergeValues): string {
  return splitMergeTags(s)
    .map((part) => (typeof part === 'string' ? part : (tagValue(part, values) ?? part.raw)))
    .join('');
}
