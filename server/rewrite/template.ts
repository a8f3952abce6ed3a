/**
 * A message compiled once at creation: the author's HTML cut into literal byte runs and
 * slots, so rendering a recipient is a join, never a re-parse.
 */

import type { TagWarning, UntrackedReason } from '../../api/types.ts';

export type { TagWarning, UntrackedReason };

export interface CompiledLink {
  /**
   * 0-based order among the HTML part's clickable elements in source order (`<a href>`,
   * `<area href>`, and inside downlevel-hidden conditional comments also VML shapes' `href`),
   * then the text part's own URLs. A VML button and its `<a>` fallback side by side are one.
   */
  position: number;
  /** The href as the author meant it: entities decoded, trimmed, resolved against `<base href>`, merge tags left in place. */
  url: string;
  /** The element's visible text, whitespace collapsed, trimmed (max 200 chars); else the alt text of an image inside, or an `<area>`'s own alt. */
  text: string;
  tracked: boolean;
  reason?: UntrackedReason;
  /** 'html' for anchors; 'text' for a URL found only in the plain-text part. */
  part: 'html' | 'text';
}

/** A piece of a compiled template: literal text, or a slot filled per recipient. */
export type Segment =
  | string
  | { merge: string; fallback: string; asWritten?: string } // a tag of ours outside an href; the value is HTML-escaped on render, the fallback (template source) written as is; asWritten: a bare {{X}}, written so for a recipient without attribute X
  | { link: number; raw: string } // a tracked href's value; `link` indexes CompiledMessage.links; raw is the source bytes of the value
  | { hrefMerge: string; fallback: string; asWritten?: string } // a tag of ours inside an untracked href value; as merge
  | { footer: true }; // where the unsubscribe line (when the author wrote none), honeypot link and open pixel go: before </body>, else at the end

export interface CompiledMessage {
  links: CompiledLink[];
  html: Segment[];
  /** The plain-text part, when there is one. Same segment kinds; `link` slots point into `links`. */
  text: Segment[] | null;
  /** What the author should know at compose time: tags left as written, bare tags filled only where a recipient has them. Absent in messages compiled before warnings existed. */
  warnings?: TagWarning[];
  /** The tags of ours without a fallback, so a send can say who lacks a value without rendering. Absent in older messages. */
  tags?: CompiledTag[];
}

/** A tag of ours without a fallback, and where it is written. */
export interface CompiledTag {
  tag: string;
  name: string;
  bare: boolean;
  /** As TagWarning.where. */
  where: string;
}

export interface CompileOptions {
  clickTracking: boolean;
  universalLinkDomains: string[];
  /** In-app and push messages: settings.deepLinkSchemes, whose links (`myapp://…`) are tracked like web ones. Emails have none. */
  deepLinkSchemes?: readonly string[];
  /** An email without a text part gets one made from its HTML (plain-text.ts), its URLs the HTML's tracked links. */
  textFromHtml?: boolean;
}

/** What a recipient brings to a render. Merge tag names look up here. */
export interface MergeValues {
  email: string;
  name: string | null;
  attributes: Record<string, string | number | boolean | null>;
  /** What `{{unsubscribe_url}}` writes: a marketing email's link for this recipient; absent elsewhere (empty). */
  unsubscribeUrl?: string;
}

export interface RenderHooks {
  /** The href to write for tracked link i once its destination is resolved for this recipient. */
  trackedHref(linkIndex: number, destination: string): string;
  /** HTML to put at the footer slot (the unsubscribe line, honeypot, open pixel). */
  footerHtml: string;
  /** settings.mergeTagHosts: where a link whose host comes from recipient data may go (empty or absent: any http(s) host). */
  mergeTagHosts?: readonly string[];
}
