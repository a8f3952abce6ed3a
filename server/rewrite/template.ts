/**
 * A message compiled once at creation: the author's HTML cut into literal byte runs and
 * slots, so rendering a recipient is a join, never a re-parse.
 */

/** Why a link is left as the author wrote it. */
export type UntrackedReason =
  | 'not-http' // mailto:, tel:, sms:, javascript:, data:, relative, #anchor, other schemes
  | 'opt-out' // data-clicktrail="off" on the anchor
  | 'universal-link' // host is on the universal-link list (or a subdomain of one)
  | 'tracking-off'; // click tracking was off when the message was created

export interface CompiledLink {
  /** 0-based order of the anchor among all `<a href>` of the HTML part, in document order. */
  position: number;
  /** The href as the author meant it: entities decoded, merge tags left in place. */
  url: string;
  /** The anchor's visible text, whitespace collapsed, trimmed (max 200 chars); alt text of an image inside when there is no text. */
  text: string;
  tracked: boolean;
  reason?: UntrackedReason;
  /** 'html' for anchors; 'text' for a URL found only in the plain-text part. */
  part: 'html' | 'text';
}

/** A piece of a compiled template: literal text, or a slot filled per recipient. */
export type Segment =
  | string
  | { merge: string; fallback: string } // {{name}} / {{ name | fallback }} outside an href; the value is HTML-escaped on render, the fallback (template source) written as is
  | { link: number; raw: string } // a tracked href's value; `link` indexes CompiledMessage.links; raw is the source bytes of the value
  | { hrefMerge: string; fallback: string } // a merge tag inside an untracked href value; HTML-escaped on render
  | { footer: true }; // where the open pixel (and honeypot link) go: before </body>, else at the end

export interface CompiledMessage {
  links: CompiledLink[];
  html: Segment[];
  /** The plain-text part, when there is one. Same segment kinds; `link` slots point into `links`. */
  text: Segment[] | null;
}

export interface CompileOptions {
  clickTracking: boolean;
  universalLinkDomains: string[];
}

/** What a recipient brings to a render. Merge tag names look up here. */
export interface MergeValues {
  email: string;
  name: string | null;
  attributes: Record<string, string | number | boolean | null>;
}

export interface RenderHooks {
  /** The href to write for tracked link i once its destination is resolved for this recipient. */
  trackedHref(linkIndex: number, destination: string): string;
  /** HTML to put at the footer slot (open pixel, honeypot). */
  footerHtml: string;
  /** settings.mergeTagHosts: where a link whose host comes from recipient data may go (empty or absent: any http(s) host). */
  mergeTagHosts?: readonly string[];
}
