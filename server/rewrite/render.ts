import { escapeHtml, foreignSyntax, hasAttribute, lookup, splitMergeTags, wholeMergeTag, type MergeTag } from './merge-tags.ts';
import type { CompiledMessage, MergeValues, RenderHooks, Segment } from './template.ts';

const HTTP = /^https?:\/\//i;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** A URL's scheme, lower-case, without the colon; null for an anchor, a relative link or a tag. */
export function schemeOf(url: string): string | null {
  return SCHEME.exec(url)?.[1]?.toLowerCase() ?? null;
}

/** A link URL cut once into literal runs and tags, so a render or a click only joins. */
interface UrlPlan {
  /** null when the URL has no merge tags: then `fixed` is the destination for everyone. */
  parts: (string | MergeTag)[] | null;
  /** The whole URL is one tag: its value is the URL, not a piece to percent-encode. */
  whole: boolean;
  fixed: string | null;
  /**
   * The origin the template itself writes before its first tag (`https://shop.test` of
   * `https://shop.test/u/{{id}}`): a filled value may never change it. null when a tag
   * writes the scheme or host: then the host comes from recipient data.
   */
  origin: string | null;
  /**
   * A deep link's scheme (`myapp` of `myapp://orders/{{id}}`), lower-case, as the template
   * writes it: it goes only there, and only while settings.deepLinkSchemes lists it. null for web links.
   */
  app: string | null;
}

// Keyed by the stored url string; the redirect server asks for the same few URLs again and again.
const plans = new Map<string, UrlPlan>();
const MAX_PLANS = 10_000;

function planFor(url: string): UrlPlan {
  let plan = plans.get(url);
  if (plan) return plan;
  const whole = wholeMergeTag(url);
  const parts = whole ? [whole] : splitMergeTags(url);
  const fixed = parts.every((p) => typeof p === 'string');
  // Another language's tag (a message compiled before they were told apart) goes out as written, never ours.
  const foreign = !whole && foreignSyntax(url) !== null;
  const scheme = typeof parts[0] === 'string' ? schemeOf(parts[0]) : null;
  const app = scheme && scheme !== 'http' && scheme !== 'https' ? scheme : null;
  plan = {
    parts: fixed || foreign ? null : parts,
    whole: whole !== null,
    fixed: fixed && !foreign ? toDestination(url, app) : null,
    origin: !fixed && typeof parts[0] === 'string' ? originOf(parts[0]) : null,
    app,
  };
  if (plans.size >= MAX_PLANS) plans.clear();
  plans.set(url, plan);
  return plan;
}

function originOf(prefix: string): string | null {
  if (!HTTP.test(prefix) || !URL.canParse(prefix)) return null;
  const u = new URL(prefix);
  return u.hostname ? u.origin : null;
}

/**
 * Where a filled URL may go. With the template's origin, only there (a value such as
 * `.evil.com` after `https://shop.test` would make another host). With the host from
 * recipient data, any http(s) host, or only the listed hosts and their subdomains when the
 * list is set.
 */
function allowed(plan: UrlPlan, dest: string, hosts: readonly string[]): boolean {
  // Values fill a deep link's components (percent-encoded): the app's own routing decides the rest.
  if (plan.app !== null) return schemeOf(dest) === plan.app;
  const url = new URL(dest);
  if (plan.origin !== null) return url.origin === plan.origin && !url.username && !url.password;
  if (hosts.length === 0) return true;
  const host = url.hostname.toLowerCase();
  return hosts.some((h) => host === h || host.endsWith(`.${h}`));
}

/** The URL for this recipient; null when a bare tag in it is not theirs, so the link is not ours for them. */
function fill(plan: UrlPlan, parts: (string | MergeTag)[], values: MergeValues): string | null {
  let s = '';
  for (const p of parts) {
    if (typeof p === 'string') s += p;
    else {
      if (p.bare && !hasAttribute(p.name, values)) return null;
      const v = lookup(p.name, values) || p.fallback;
      s += plan.whole ? v.trim() : encodeComponent(v);
    }
  }
  return s;
}

function encodeComponent(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    return encodeURIComponent(v.replace(/[\uD800-\uDFFF]/g, '\uFFFD')); // lone surrogates throw URIError
  }
}

/** `s` as a Location: an absolute http(s) URL, or a deep link of scheme `app` (the plan's, lower-case). */
function toDestination(s: string, app: string | null): string | null {
  if (!(app === null ? HTTP.test(s) : schemeOf(s) === app) || !URL.canParse(s)) return null;
  // A Location is ASCII (RFC 9110: a URI reference): spaces, control characters and non-ASCII
  // go out as the URL serialiser writes them, percent-encoded UTF-8 and punycode, which is
  // exactly what a browser requests for the link as written. ASCII stays byte for byte.
  return /[^\x21-\x7e]/.test(s) ? new URL(s).href : s;
}

/**
 * Where link `url` (as stored in CompiledLink) sends this recipient; null when that is not an
 * absolute http(s) URL or a deep link whose scheme `deepLinkSchemes` (settings) still lists,
 * or when recipient data would take it off the template's origin or outside `mergeTagHosts` (settings).
 */
export function resolveDestination(
  url: string,
  values: MergeValues,
  mergeTagHosts: readonly string[] = [],
  deepLinkSchemes: readonly string[] = [],
): string | null {
  const plan = planFor(url);
  if (plan.app !== null && !deepLinkSchemes.includes(plan.app)) return null;
  if (!plan.parts) return plan.fixed;
  const filled = fill(plan, plan.parts, values);
  const dest = filled === null ? null : toDestination(filled, plan.app);
  return dest !== null && allowed(plan, dest, mergeTagHosts) ? dest : null;
}

export function renderHtml(msg: CompiledMessage, values: MergeValues, hooks: RenderHooks): string {
  return render(msg, msg.html, values, hooks, escapeHtml);
}

/** The plain-text part, values written as they are (no HTML escaping). */
export function renderText(msg: CompiledMessage, values: MergeValues, hooks: RenderHooks): string | null {
  return msg.text && render(msg, msg.text, values, hooks, (s) => s);
}

function render(
  msg: CompiledMessage,
  segs: Segment[],
  values: MergeValues,
  hooks: RenderHooks,
  esc: (s: string) => string,
): string {
  let out = '';
  for (const seg of segs) {
    if (typeof seg === 'string') out += seg;
    else if ('link' in seg) out += renderLink(seg.link, seg.raw, msg.links[seg.link]!.url, values, hooks, esc);
    else if ('merge' in seg) out += mergeValue(seg.merge, seg.fallback, seg.asWritten, values, esc);
    else if ('hrefMerge' in seg) out += mergeValue(seg.hrefMerge, seg.fallback, seg.asWritten, values, esc);
    else out += hooks.footerHtml;
  }
  return out;
}

// The fallback is written by the author in the template's own syntax, so it goes out as written.
function mergeValue(name: string, fallback: string, asWritten: string | undefined, values: MergeValues, esc: (s: string) => string): string {
  if (asWritten !== undefined && !hasAttribute(name, values)) return asWritten;
  const v = lookup(name, values);
  return v === '' ? fallback : esc(v);
}

function renderLink(
  index: number,
  raw: string,
  url: string,
  values: MergeValues,
  hooks: RenderHooks,
  esc: (s: string) => string,
): string {
  const plan = planFor(url);
  if (!plan.parts) return plan.fixed === null ? raw : esc(hooks.trackedHref(index, plan.fixed));
  const filled = fill(plan, plan.parts, values);
  if (filled === null) return raw;
  const dest = toDestination(filled, plan.app);
  if (dest !== null) {
    // Recipient data that would take the link to another site: no link at all, neither tracked nor direct.
    return allowed(plan, dest, hooks.mergeTagHosts ?? []) ? esc(hooks.trackedHref(index, dest)) : '#';
  }
  // Not http(s) for this recipient (say the attribute is missing): their value, never a dead tracked link,
  // and never a script: recipient data is imported from anywhere.
  return SCRIPT_SCHEME.test(filled) ? '#' : esc(filled);
}

// Browsers ignore leading control characters and blanks, and tabs or newlines inside the scheme.
const SCRIPT_SCHEME = /^[\x00-\x20]*(j[\t\n\r]*a[\t\n\r]*v[\t\n\r]*a[\t\n\r]*s[\t\n\r]*c[\t\n\r]*r[\t\n\r]*i[\t\n\r]*p[\t\n\r]*t|data|vbscript)[\t\n\r]*:/i;
