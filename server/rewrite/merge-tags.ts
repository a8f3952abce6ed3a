import type { MergeValues } from './template.ts';

export interface MergeTag {
  name: string;
  fallback: string;
  /** The tag as written, braces included. */
  raw: string;
}

/**
 * `{{ name }}` or `{{ name | fallback }}`. The look-arounds leave `{{{ raw }}}` alone, and the
 * name pattern never matches `{{#each}}`, `{{/if}}`, `{{^x}}`, `{{! x}}` or `{{> x}}`: those
 * belong to other template languages and stay literal.
 */
const TAG = /(?<!\{)\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:\|([^{}]*))?\}\}(?!\})/g;
const WHOLE_TAG = /^\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:\|([^{}]*))?\}\}$/;

/** Cuts `s` into literal runs (exact slices) and merge tags. Empty literals are dropped. */
export function splitMergeTags(s: string): (string | MergeTag)[] {
  const parts: (string | MergeTag)[] = [];
  let pos = 0;
  for (const m of s.matchAll(TAG)) {
    if (m.index > pos) parts.push(s.slice(pos, m.index));
    parts.push({ name: m[1]!, fallback: (m[2] ?? '').trim(), raw: m[0] });
    pos = m.index + m[0].length;
  }
  if (pos < s.length) parts.push(s.slice(pos));
  return parts;
}

export function hasMergeTag(s: string): boolean {
  return s.search(TAG) !== -1;
}

/** The tag when `s` (already trimmed) is exactly one merge tag, else null. */
export function wholeMergeTag(s: string): MergeTag | null {
  const m = WHOLE_TAG.exec(s);
  return m ? { name: m[1]!, fallback: (m[2] ?? '').trim(), raw: s } : null;
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

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return /[&<>"']/.test(s) ? s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!) : s;
}

/** A short string (a subject, a greeting) with its merge tags filled as plain text: no compiled template needed. */
export function fillMergeTags(s: string, values: MergeValues): string {
  return splitMergeTags(s)
    .map((part) => (typeof part === 'string' ? part : lookup(part.name, values) || part.fallback))
    .join('');
}
