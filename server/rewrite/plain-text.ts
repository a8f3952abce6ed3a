import { compile, type HtmlToTextOptions } from 'html-to-text';
import { schemeOf } from './render.ts';

/**
 * An email's plain-text part made from its HTML, for authors who give none (html-to-text):
 * paragraphs and line breaks as a reader sees them, each link's destination in brackets after
 * its text, what no reader sees (hidden preheaders, styles) left out. Tags of ours pass
 * through untouched, so the result compiles like a text part the author wrote: its URLs
 * become the same tracked links as the HTML's. So nothing can cut a tag or a URL in two,
 * lines are not wrapped (a mail client wraps them) and headings keep their case.
 */

const OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  formatters: {
    // An image says what it is by its alt text; its address is nobody's reading.
    altText(elem, _walk, builder) {
      const alt = (elem.attribs?.alt ?? '').trim();
      if (alt) builder.addInline(alt);
    },
  },
  selectors: [
    {
      selector: 'a',
      options: {
        hideLinkHrefIfSameAsText: true,
        // html-to-text has taken `mailto:` off by now: only an href with no scheme of its own is resolved.
        pathRewrite: (href: string, metadata?: Metadata, elem?: { attribs?: Record<string, string> }) =>
          metadata?.resolve && schemeOf((elem?.attribs?.href ?? href).trim()) === null ? metadata.resolve(href) : href,
      },
    },
    { selector: 'img', format: 'altText' },
    // Emails are laid out in tables: each row and cell reads as lines of its own, as on a phone.
    { selector: 'tr', format: 'block' },
    { selector: 'td', format: 'block' },
    { selector: 'th', format: 'block' },
    { selector: '*[style*="display:none" i]', format: 'skip' },
    { selector: '*[style*="display: none" i]', format: 'skip' },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((h) => ({ selector: h, options: { uppercase: false } })),
  ],
};
interface Metadata {
  resolve?: ((href: string) => string) | undefined;
}
// The compiled function takes the metadata too (html-to-text 9+), which its typings leave out.
const convert = compile(OPTIONS) as (html: string, metadata?: Metadata) => string;

/** `resolve`: what a relative href means (the template's `<base href>`), as the HTML's links resolve it. */
export function textOfHtml(html: string, resolve?: (href: string) => string): string {
  return convert(html, { resolve }).trim();
}
