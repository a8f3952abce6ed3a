import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { parse, type DefaultTreeAdapterTypes as P5, type ParserError } from 'parse5';
import { compileMessage } from '../../server/rewrite/compile.ts';
import { renderHtml, renderText, resolveDestination } from '../../server/rewrite/render.ts';
import type { CompiledMessage, CompileOptions, MergeValues } from '../../server/rewrite/template.ts';
import { FIXTURES, fixtureTemplates } from '../support/server.ts';
import { clickablesOf, fillOurs, fixtureRecipient, foreignIn, resolvedFilled, trackable, type Clickable } from './email-oracle.ts';

const ON: CompileOptions = { clickTracking: true, universalLinkDomains: [] };
const NOBODY: MergeValues = { email: 'ann@example.com', name: 'Ann Lee', attributes: {} };

/** Renders with `@@i@@` as every tracked href and records the destinations handed to the hook. */
function renderMarked(msg: CompiledMessage, values: MergeValues = NOBODY, footerHtml = '') {
  const dests = new Map<number, string>();
  const hooks = {
    trackedHref: (i: number, d: string) => {
      dests.set(i, d);
      return `@@${i}@@`;
    },
    footerHtml,
  };
  return { html: renderHtml(msg, values, hooks), text: renderText(msg, values, hooks), dests };
}

/** The raw source bytes of each html link slot, by link index. */
function rawOf(msg: CompiledMessage): Map<number, string> {
  const raw = new Map<number, string>();
  for (const s of msg.html) if (typeof s === 'object' && 'link' in s) raw.set(s.link, s.raw);
  return raw;
}

function mapBack(out: string, msg: CompiledMessage, fill: (s: string) => string = (s) => s): string {
  const raw = rawOf(msg);
  return out.replace(/@@(\d+)@@/g, (_, i: string) => fill(raw.get(Number(i))!));
}

/** Compile + render + map back: must give the source again. */
function roundTrip(html: string, opts = ON) {
  const msg = compileMessage(html, null, opts);
  const r = renderMarked(msg);
  return { msg, ...r, back: mapBack(r.html, msg) };
}

function elements(node: P5.ParentNode, out: P5.Element[] = []): P5.Element[] {
  for (const c of node.childNodes) {
    if ('tagName' in c) {
      out.push(c);
      elements(c, out);
    }
  }
  return out;
}

/** Every `<tag href>` value as parse5 sees it, in tree order: an independent view of the anchors. */
function hrefsOf(html: string, tag = 'a'): string[] {
  return elements(parse(html))
    .filter((e) => e.tagName === tag)
    .flatMap((e) => e.attrs.filter((a) => a.name === 'href').map((a) => a.value.trim()));
}

/** The link slots of a compiled part, in source order. */
function slotsOf(segs: CompiledMessage['html']): { link: number; raw: string }[] {
  return segs.filter((s): s is { link: number; raw: string } => typeof s === 'object' && 'link' in s);
}

/** A Location for a filled URL: as written when ASCII, else as the URL serialiser (and a browser) writes it. */
const asLocation = (u: string) => (/[^\x21-\x7e]/.test(u) ? new URL(u).href : u);
/** A link's destination for the recipient: a whole-href tag is the URL itself; tags inside a URL are percent-encoded. */
const destinationFor = (url: string, v: MergeValues) =>
  asLocation(/^\{\{[^{}]*\}\}$/.test(url) ? fillOurs(url, v) : fillOurs(url, v, encodeURIComponent));

const TEMPLATES = new Map(fixtureTemplates());
const fixture = (name: string) => TEMPLATES.get(name) ?? expect.unreachable(`no fixture ${name}`);
/** A fixture's plain-text part, when it has one (`x.txt` beside `x.html`). */
const textPart = (name: string): string | null => {
  const path = join(FIXTURES, name.replace(/\.html$/, '.txt'));
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
};
const tracked = (msg: CompiledMessage) => msg.links.filter((l) => l.tracked).map((l) => l.url);

describe('real templates round-trip', () => {
  it('finds the fixtures, and together they carry every hard structure their README lists', () => {
    expect(TEMPLATES.size).toBeGreaterThanOrEqual(15);
    const all = [...TEMPLATES.keys()].map((f) => fixture(f) + (textPart(f) ?? '')).join('\n');
    for (const structure of [
      /<style[^>]*>[^<]*\{/i, // a style block
      / style="[^"]+"/, // inlined CSS
      /<table[^>]*>\s*<tr[^>]*>\s*<td[^>]*>\s*<table/i, // nested layout tables
      /<!--\[if mso\]>/,
      /<!--\[if !mso\]><!-->[^]*?<a [^]*?<!--<!\[endif\]-->/,
      /<!--\[if mso\]>\s*<v:roundrect [^>]*href="https:\/\/[^"]+"/,
      /<!--\[if mso\]>\s*<v:roundrect [^>]*href="\{\{action_url\}\}"/,
      /<!\[endif\]--><a [^>]*mso-hide: all/, // a VML button's fallback hidden from Outlook by CSS
      /<v:roundrect href="\{\{attributes\.[a-z_]+\}\}"[^]*?<!\[endif\]-->\s*<a href="\{\{attributes/, // a shape opened in one comment, its link between
      /<!--\[if mso\]><a href="https:[^"]*"[^>]*><v:rect href="https:/, // a link wrapping a shape
      /<!--\[if !mso\]><!-- -->/,
      /<v:oval href="https:/,
      /<!--\[if mso\]>\s*<p[^>]*>[^<]*<a href="https:/, // an Outlook-only text link
      /<map [^>]*>\s*<area [^>]*href="https:/,
      /<base href="https:\/\/[^"]+\/">/,
      /href="\.\.\/\.\.\/[^"]+"/,
      /href="\/[a-z][^"]*"/,
      /href="\/\/[a-z]/,
      /href="\?[^"]+"/,
      /href="https:\/\/[^"]*[^\x00-\x7f]/, // a non-ASCII destination
      /href="https:\/\/[^"/]*[^\x00-\x7f][^"/]*\//, // an internationalised host
      /href="https:\/\/[^"]*\?[^"]*&amp;utm_source=/,
      /href="https:\/\/[^"]*&#38;/,
      /<A HREF="https:/,
      /href='https:/,
      /href='\{\{ /,
      /href=https:\/\//,
      /HREF = "/,
      /href="\{\{action_url\}\}"/,
      /href="https:\/\/shop\.test\/orders\/\{\{attributes\.order_id\}\}"/,
      /\{\{first_name\}\}/,
      /\{\{first_name \| friend\}\}/,
      /href="mailto:/,
      /href="mailto:\{\{support_email\}\}/,
      /href="tel:/,
      /href="sms:/,
      /href="#[a-z]/,
      /<!-- [^>]*<a href="https:/, // an anchor inside a plain comment
      /<!-- [^>]*\{\{Campaign-Source\}\}/, // another sender's tag inside a plain comment
      /\{\{#each [a-z]+\}\}/,
      /\{\{else\}\}/,
      /\{\{ end \}\}/,
      /\{\{ else \}\}/,
      /\{\{\{[a-z_.]+\}\}\}/,
      /href="\{\{this\.[a-z0-9_]+\}\}"/,
      /href="\{\{unsubscribe\}\}"/,
      /href="\{\{ UnsubscribeURL \}\}"/,
      /href="https:\/\/[^"]*\{\{ subscriber\.uuid \}\}/,
      /href="\*\|UNSUB\|\*"/,
      /href="https:\/\/[^"]*\*\|[A-Z]+\|\*/,
      /href="%unsubscribe_url%"/,
      /href="https:\/\/[^"]*%recipient\.[a-z_]+%/,
      /href="<%[a-z_]+%>"/,
      /href="\{% [a-z_]+ %\}"/,
      /href="https:\/\/[^"]*\[[a-z_]+\]/,
      /href="https:\/\/[^"]*filter\[[a-z]+\]=/, // brackets that are not a tag
      /href="https:\/\/[^"]*%C3%A9/, // percent-escapes that are not a tag
      /https:\/\/en\.wikipedia\.org\/wiki\/[A-Za-z]+_\([a-z]+\)\)/, // a parenthesised URL inside parentheses, in text
      /\{https:\/\/[^}]+\}/,
      /<https:\/\/[^>]+>/,
      /\r\n/,
    ]) {
      expect(all, String(structure)).toMatch(structure);
    }
  });

  it.each([...TEMPLATES.keys()])('%s', (file) => {
    const src = fixture(file);
    const text = textPart(file);
    const values = fixtureRecipient(src + (text ?? ''));
    const fill = (s: string) => fillOurs(s, values);
    const msg = compileMessage(src, text, ON);
    const { html, text: textOut, dests } = renderMarked(msg, values);

    // Byte-for-byte: only tags of ours and tracked hrefs changed, in both parts.
    expect(mapBack(html, msg, fill)).toBe(fill(src));
    if (text !== null) {
      const raw = new Map(slotsOf(msg.text!).map((s) => [s.link, s.raw]));
      expect(textOut!.replace(/@@(\d+)@@/g, (_, i: string) => fill(raw.get(Number(i))!))).toBe(fill(text));
    }

    // The footer slot sits right before </body>.
    const withFooter = renderMarked(msg, values, '<!--FOOTER-->').html;
    expect(mapBack(withFooter, msg, fill)).toBe(fill(src).replace(/<\/body>/i, '<!--FOOTER-->$&'));

    // Every element a reader can click in some client (anchors, image-map areas, and inside
    // Outlook's conditional comments also VML shapes) is a placement, in source order; the
    // trackable ones are tracked slots holding the href exactly as written.
    const { clickables, base } = clickablesOf(src);
    const where = (c: Clickable) => resolvedFilled(c.href, base, values);
    const isTracked = (c: Clickable) => !foreignIn(c.href) && (trackable(c.href) || /^https?:\/\//i.test(where(c)));
    const htmlLinks = msg.links.filter((l) => l.part === 'html');
    expect(htmlLinks.map((l) => l.position)).toEqual(htmlLinks.map((_, i) => i));
    const slots = slotsOf(msg.html);
    const trackedOnes = clickables.filter(isTracked);
    expect(trackedOnes.length).toBeGreaterThan(0);
    expect(slots.map((s) => s.raw)).toEqual(trackedOnes.map((c) => c.raw));
    expect(slots.map((s) => fill(msg.links[s.link]!.url))).toEqual(trackedOnes.map(where));
    expect(new Set(slots.map((s) => s.link))).toEqual(new Set(htmlLinks.filter((l) => l.tracked).map((l) => l.position)));
    const untracked = clickables.filter((c) => !isTracked(c));
    expect(htmlLinks.filter((l) => !l.tracked).map((l) => fill(l.url))).toEqual(untracked.map(where));
    // One placement for two slots only where a reader sees one of them: one Outlook's alone.
    const joined = slots.filter((s, i) => i > 0 && slots[i - 1]!.link === s.link).length;
    expect(htmlLinks).toHaveLength(clickables.length - joined);
    for (const [i, s] of slots.entries()) {
      if (i > 0 && slots[i - 1]!.link === s.link) expect(trackedOnes[i - 1]!.outlookOnly || trackedOnes[i]!.outlookOnly, `${file} slot ${i}`).toBe(true);
    }

    // Every tracked slot is a tracked href for the recipient, unless it holds a bare tag they lack
    // (then it is written as it was, for the sender whose tag it is).
    const theirs = slots.filter((s) => !/\{\{[^{}]*\}\}/.test(fill(msg.links[s.link]!.url)));
    expect(html.match(/@@\d+@@/g) ?? []).toHaveLength(theirs.length);
    const textSlots = slotsOf(msg.text ?? []).filter((s) => !/\{\{[^{}]*\}\}/.test(fill(msg.links[s.link]!.url)));
    const byNumber = (a: number, b: number) => a - b;
    expect([...dests.keys()].sort(byNumber)).toEqual([...new Set([...theirs, ...textSlots].map((s) => s.link))].sort(byNumber));
    for (const [i, d] of dests) expect(d).toBe(destinationFor(msg.links[i]!.url, values));

    // mailto:, tel: and sms: hrefs come out as written (tags filled), untracked.
    const direct = (h: string) => /^(mailto|tel|sms):/.test(h);
    expect(clickablesOf(html).clickables.map((c) => c.href).filter(direct)).toEqual(clickables.map((c) => c.href).filter(direct).map(fill));
    expect(msg.links.filter((l) => direct(l.url)).every((l) => !l.tracked && l.reason === 'not-http')).toBe(true);
  });
});

// What the rewriter makes of each fixture's hard structures, link by link.
describe('the fixtures, link by link', () => {
  const compiled = (file: string, subject: string | null = null) => {
    const src = fixture(file);
    const text = textPart(file);
    const msg = compileMessage(src, text, ON, subject);
    return { src, msg, ...renderMarked(msg, fixtureRecipient(src + (text ?? ''))) };
  };

  it('welcome.html: masthead, merge-tag button and help links tracked; mailto: and tel: left alone', () => {
    const { msg } = compiled('welcome.html');
    expect(msg.links.map((l) => [l.url, l.tracked])).toEqual([
      ['https://shop.test/?utm_source=welcome&utm_medium=email', true],
      ['{{action_url}}', true],
      ['{{live_chat_url}}', true],
      ['mailto:{{support_email}}?subject=Help%20choosing%20beans', false],
      ['{{help_url}}', true],
      ['tel:+441632960123', false],
    ]);
    expect(msg.links.map((l) => l.text)).toEqual(['Bean & Leaf', 'Choose your first roast', 'chat with a roaster', 'write to us', 'brewing guides', '01632 960123']);
  });

  it('receipt.html: the order page twice, entities decoded, #anchor untracked', () => {
    const { msg, html, dests } = compiled('receipt.html');
    const order = 'https://shop.test/orders/{{attributes.order_id}}';
    expect(msg.links.filter((l) => l.url === order).map((l) => [l.position, l.text, l.tracked])).toEqual([
      [2, 'Follow your order', true],
      [6, 'your order page', true],
    ]);
    expect(dests.get(2)).toBe('https://shop.test/orders/vorderid');
    expect(dests.get(6)).toBe('https://shop.test/orders/vorderid');
    expect(msg.links[0]).toMatchObject({ url: 'https://shop.test/?utm_source=receipt&utm_medium=email', tracked: true });
    expect(rawOf(msg).get(0)).toBe('https://shop.test/?utm_source=receipt&amp;utm_medium=email');
    expect(msg.links[1]).toMatchObject({ url: '#delivery', tracked: false, reason: 'not-http' });
    expect(html).toContain('<a href="#delivery" style="color: #8a4b1f;">');
    expect(tracked(msg)).toHaveLength(7);
    expect(msg.links).toHaveLength(10);
  });

  it('bulletproof-button.html: each VML button and its fallback anchor are one tracked placement', () => {
    const { msg, html, dests } = compiled('bulletproof-button.html');
    const parcel = 'https://track.carrier.test/parcel?id={{attributes.tracking_number}}&lang=en&utm_source=shipping';
    expect(msg.links.map((l) => [l.url, l.tracked, l.text])).toEqual([
      ['https://shop.test/?utm_source=shipping&utm_medium=email', true, 'Bean & Leaf'],
      [parcel, true, 'Track your parcel'],
      ['{{action_url}}', true, 'Change delivery day'],
      ['mailto:orders@shop.test', false, 'orders@shop.test'],
    ]);
    // Outlook's shape and everyone else's anchor carry the same tracked href: one token, one row in the stats.
    expect(html.match(/@@\d+@@/g)).toEqual(['@@0@@', '@@1@@', '@@1@@', '@@2@@', '@@2@@']);
    expect(html).toContain('<v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" xmlns:w="urn:schemas-microsoft-com:office:word" href="@@1@@"');
    expect(html).toContain('href="@@2@@" style="height:42px;');
    expect(dests.get(1)).toBe('https://track.carrier.test/parcel?id=vtrackingnumber&lang=en&utm_source=shipping');
    // The VML background hero has no href: nothing to click.
    expect(html).toContain('<v:rect xmlns:v="urn:schemas-microsoft-com:vml" fill="true" stroke="false"');
  });

  it('outlook-buttons.html: VML shapes and anchors inside MSO comments are placements; beside their fallbacks, one each', () => {
    const { msg, html, dests } = compiled('outlook-buttons.html');
    expect(msg.links.map((l) => [l.url, l.tracked, l.text])).toEqual([
      ['https://shop.test/events/cupping-night?utm_source=cupping&utm_content=book', true, 'Book a seat'],
      ['{{attributes.saturday_url}}', true, 'Saturday instead'],
      ['https://shop.test/events/cupping-night/menu?utm_source=cupping', true, 'See the six lots'],
      ['https://shop.test/beans/cupping-box?utm_source=cupping&utm_content=badge', true, 'The box'],
      ['https://shop.test/beans/cupping-box?utm_source=cupping&utm_content=text', true, 'cupping box'],
      ['https://shop.test/letters/cupping-night?view=web&client=outlook', true, 'Open this letter in your browser'],
      ['https://shop.test/account/letters?e={{email}}', true, 'Letter settings'],
    ]);
    // Button 1: shape + mso-hide:all anchor; 2: a shape opened and closed in two comments around its anchor;
    // 3: an Outlook-only anchor wrapping a shape, then the others' anchor. The badge is Outlook's alone, so is the last line.
    expect(html.match(/@@\d+@@/g)).toEqual(['@@0@@', '@@0@@', '@@1@@', '@@1@@', '@@2@@', '@@2@@', '@@2@@', '@@3@@', '@@4@@', '@@5@@', '@@6@@']);
    expect(html).toContain('<!--[if mso]><a href="@@2@@" target="_blank"><v:rect href="@@2@@" style=');
    expect(html).toContain('<v:oval href="@@3@@" style="width:96px;height:96px;"');
    expect(html).toContain('Open this letter in your browser</a>.</p>\n              <![endif]-->');
    expect(dests.get(1)).toBe('https://example.com/saturday_url');
    // Another sender's tags in a plain comment stay as they are.
    expect(html).toContain('<!-- Campaign {{Campaign-Source}} / {{ Campaign-Medium }}: set by the scheduler, not by us -->');
    expect(msg.warnings).toEqual([
      { tag: '{{Campaign-Source}}', where: 'html line 22', reason: 'foreign' },
      { tag: '{{ Campaign-Medium }}', where: 'html line 22', reason: 'foreign' },
    ]);
  });

  it('image-map.html: every <area href> is a tracked placement, its text the alt; the text links to the same places are their own', () => {
    const { src, msg, html, dests } = compiled('image-map.html');
    const areas = hrefsOf(src, 'area');
    expect(areas).toHaveLength(4);
    const listed = msg.links.filter((l) => l.tracked).map((l) => l.url);
    for (const area of areas) {
      expect(listed).toContain(area);
      expect(listed).toContain(area.replace('utm_content=map', 'utm_content=list'));
    }
    expect(msg.links.slice(2, 6).map((l) => [l.position, l.text])).toEqual([
      [2, 'Colombia: Finca La Loma, Huila'],
      [3, 'Ethiopia: Hambela washing station, Guji'],
      [4, 'Kenya: Gatomboya cooperative, Nyeri'],
      [5, 'Sumatra: Ketiara cooperative, Aceh'],
    ]);
    expect(hrefsOf(html, 'area')).toEqual(['@@2@@', '@@3@@', '@@4@@', '@@5@@']);
    expect(dests.get(2)).toBe(areas[0]);
    // `nohref` is nothing to click.
    expect(html).toContain('<area shape="default" nohref="nohref" alt="" />');
    // The logo and the banner are image links: their text is the image's alt.
    expect(msg.links.filter((l) => l.text.startsWith('Bean & Leaf') || l.text.startsWith('Try all four')).map((l) => l.tracked)).toEqual([true, true]);
    expect(msg.links.find((l) => l.url.startsWith('sms:'))).toMatchObject({ url: 'sms:+441632960456?body=BEANS', tracked: false });
    expect(tracked(msg)).toHaveLength(12);
  });

  it('handlebars-esp.html: Handlebars and SendGrid tags left exactly as written; links that hold them untracked', () => {
    const { src, msg, html, dests } = compiled('handlebars-esp.html', 'Your picks, {{first_name}} {{{emoji}}}');
    expect(msg.links.map((l) => [l.url, l.reason ?? 'tracked'])).toEqual([
      ['{{Weblink}}', 'tracked'],
      ['https://shop.test/?utm_source=picks&utm_medium=email', 'tracked'],
      ['{{this.c2a_link}}', 'foreign-tag'],
      ['{{this.url}}', 'foreign-tag'],
      ['https://shop.test/beans/{{this.slug}}?utm_source=picks', 'foreign-tag'],
      ['https://shop.test/basket/reorder?customer={{attributes.customer_id}}&utm_source=picks', 'tracked'],
      ['{{{unsubscribe}}}', 'foreign-tag'],
      ['{{{unsubscribe_preferences}}}', 'foreign-tag'],
      ['<%asm_group_unsubscribe_raw_url%>', 'foreign-tag'],
      ['https://shop.test/letters/feedback?list=[list_id]&utm_source=picks', 'foreign-tag'],
      ['https://shop.test/account/letters?e={{email}}&tier={{ loyalty_tier | standard }}', 'tracked'],
    ]);
    // Nothing of SendGrid's is blanked: the block helpers, the triple-stash, `this.`, its own bare names.
    for (const kept of ['{{#if loyalty_member}}', '{{else}}', '{{/if}}', '{{#each picks}}', '{{/each}}', '{{{this.tasting_notes_html}}}', '<title>{{Subject_Line}}</title>',
      'by {{Sender_Name}}, {{Sender_Address}}, {{Sender_City}}.', '<a href="{{{unsubscribe}}}"', '<a href="<%asm_group_unsubscribe_raw_url%>"', '<a href="{{this.c2a_link}}" style="color: #8a4b1f;">{{this.c2a_text}}</a>',
      // A bare tag the recipient has no attribute for is someone else's: as written, and its link untracked for them.
      '<a href="{{Weblink}}"']) {
      expect(src).toContain(kept);
      expect(html).toContain(kept);
    }
    expect(html).toContain('Next bag roasted on vroastday.');
    expect(html).toContain('As a vloyaltytier member');
    expect(dests.get(10)).toBe('https://shop.test/account/letters?e=ann%2Bbeans%40example.com&tier=vloyaltytier');
    expect(dests.has(0)).toBe(false);
    const byTag = new Map(msg.warnings!.map((w) => [w.tag, w]));
    expect(byTag.get('{{{emoji}}}')).toEqual({ tag: '{{{emoji}}}', where: 'subject', reason: 'foreign' });
    expect(byTag.get('{{this.name}}')).toEqual({ tag: '{{this.name}}', where: 'html line 39, html line 40', reason: 'foreign' });
    expect(byTag.get('{{this.c2a_link}}')).toEqual({ tag: '{{this.c2a_link}}', where: 'link 2 (html line 29)', reason: 'foreign' });
    expect(byTag.get('<%asm_group_unsubscribe_raw_url%>')).toEqual({ tag: '<%asm_group_unsubscribe_raw_url%>', where: 'link 8', reason: 'foreign' });
    expect(byTag.get('[list_id]')).toMatchObject({ reason: 'foreign', where: 'link 9' });
    expect(byTag.get('{{Weblink}}')).toEqual({ tag: '{{Weblink}}', where: 'link 0 (html line 20)', reason: 'attribute' });
    expect(byTag.get('{{ roast_day }}')).toMatchObject({ reason: 'attribute' });
    expect(byTag.has('{{first_name}}')).toBe(false);
    expect(byTag.has('{{ loyalty_tier | standard }}')).toBe(false);
  });

  it('go-template.html: Go template actions stay, {{ end }} and {{ else }} included; links holding them untracked', () => {
    const { src, msg, html } = compiled('go-template.html');
    expect(msg.links.map((l) => [l.url, l.reason ?? 'tracked'])).toEqual([
      ['https://shop.test/?utm_source=roast-report&utm_medium=email', 'tracked'],
      ['https://shop.test/account/next-bag?plan={{attributes.plan}}&utm_source=roast-report', 'tracked'],
      ['https://shop.test/roast-log/{{ .Campaign.UUID }}', 'foreign-tag'],
      ['https://acme.shop.test/u/{{ subscriber.uuid }}/batches', 'foreign-tag'],
      ['{{ TrackLink "https://shop.test/brew-guides/aeropress" }}', 'foreign-tag'],
      ['https://shop.test/brew-guides/v60?ref={{ .Subscriber.UUID }}', 'foreign-tag'],
      ['{{ UnsubscribeURL }}', 'tracked'],
      ['{{ MessageURL }}', 'tracked'],
      ['{{unsubscribe}}', 'tracked'],
      ['https://shop.test/help?utm_source=roast-report', 'tracked'],
    ]);
    // The recipient has none of listmonk's names: the links go out as written, for listmonk to fill.
    for (const kept of ['{{ .Subscriber.FirstName }}', '{{ if eq .Subscriber.Attribs.plan "espresso" }}', '{{ else }}', '{{ end }}', '{{ range .Campaign.Tags }}', '{{ . }}',
      '{{ template "footer-address" . }}', '<a href="{{ UnsubscribeURL }}"', '<a href="{{unsubscribe}}"', '{{ TrackView }}', 'href="https://acme.shop.test/u/{{ subscriber.uuid }}/batches"']) {
      expect(src).toContain(kept);
      expect(html).toContain(kept);
    }
    expect(html).toContain('Ann, your next bag leaves the roastery on vshipday.');
    expect(html.match(/@@\d+@@/g)).toEqual(['@@0@@', '@@1@@', '@@9@@']);
    // For a recipient who has the attribute, a bare tag is theirs, and its link tracked.
    const withIt = renderMarked(msg, { ...fixtureRecipient(src), attributes: { ...fixtureRecipient(src).attributes, unsubscribe: 'https://shop.test/u/1' } });
    expect(withIt.dests.get(8)).toBe('https://shop.test/u/1');
  });

  it('mixed-esp-tags.html: Mailchimp, Mailgun, Liquid, SendGrid and Marketing Cloud syntax untracked and as written', () => {
    const { src, msg, html } = compiled('mixed-esp-tags.html');
    expect(msg.links.map((l) => [l.url, l.reason ?? 'tracked'])).toEqual([
      ['*|ARCHIVE|*', 'foreign-tag'],
      ['https://shop.test/letters/autumn?utm_source=autumn&utm_medium=email', 'tracked'],
      ['https://shop.test/beans/huila-autumn?utm_source=autumn&utm_medium=email', 'tracked'],
      ['https://shop.test/refer?from=*|UNIQID|*&utm_source=autumn', 'foreign-tag'],
      ['https://shop.test/refer/%recipient.referral_code%', 'foreign-tag'],
      ['https://trade.shop.test/prices?account={{ customer.id }}', 'foreign-tag'],
      ['https://shop.test/card/[card_number]', 'foreign-tag'],
      ['https://app.shop.test/open?card=%%CardNumber%%', 'foreign-tag'],
      // Form-style brackets and percent-escapes are no one's tags.
      ['https://shop.test/beans?filter[origin]=colombia&sort=new', 'tracked'],
      ['https://shop.test/caf%C3%A9/menu?day=vendredi', 'tracked'],
      ['*|UNSUB|*', 'foreign-tag'],
      ['%unsubscribe_url%', 'foreign-tag'],
      ['{% unsubscribe_url %}', 'foreign-tag'],
      ['*|UPDATE_PROFILE|*', 'foreign-tag'],
      ['https://shop.test/account/letters?e={{email}}&utm_source=autumn', 'tracked'],
    ]);
    expect(html).toContain('Dear Ann, the harvest');
    expect(html.replace(/Dear Ann,/, 'Dear {{first_name | friend}},').replace(/href="@@\d+@@"/g, '')).toBe(src.replace(/href="https:\/\/shop\.test\/(letters\/autumn|beans\/huila-autumn|beans\?filter|caf%C3%A9|account\/letters)[^"]*"/g, ''));
    expect(msg.warnings!.map((w) => w.tag)).toEqual(['{{ customer.id }}', '*|ARCHIVE|*', '*|UNIQID|*', '%recipient.referral_code%', '[card_number]', '%%CardNumber%%', '*|UNSUB|*', '%unsubscribe_url%', '{% unsubscribe_url %}', '*|UPDATE_PROFILE|*']);
  });

  it('base-href.html: relative links resolve against <base href> and are tracked; #anchors and mailto: stay', () => {
    const { msg, html, dests } = compiled('base-href.html');
    expect(msg.links.map((l) => [l.url, l.reason ?? 'tracked'])).toEqual([
      ['https://shop.test/de/briefe/herbst/ansicht.html?utm_source=herbst', 'tracked'],
      ['https://shop.test/de/?utm_source=herbst&utm_medium=email', 'tracked'],
      ['https://shop.test/de/kaffee/huila-herbst?utm_source=herbst', 'tracked'],
      ['https://shop.test/de/kaffee/guji?utm_source=herbst&utm_content=text', 'tracked'],
      ['https://shop.test/de/kaffee/r%C3%B6stung-nr-7?utm_source=herbst', 'tracked'],
      ['https://shop.test/de/konto/bestellungen/{{attributes.order_id}}?utm_source=herbst', 'tracked'],
      ['https://rezepte.shop.test/herbst/chai-latte', 'tracked'],
      ['mailto:hallo@shop.test', 'not-http'],
      ['https://shop.test/café/öffnungszeiten?tag=sonntag&q=naïve', 'tracked'],
      ['https://bücher.shop.test/kaffee', 'tracked'],
      ['#oben', 'not-http'],
      ['https://shop.test/de/briefe/herbst/?utm_source=herbst&utm_content=self', 'tracked'],
      ['https://shop.test/de/konto/briefe?e={{email}}', 'tracked'],
      ['https://shop.test/impressum', 'tracked'],
    ]);
    // The slot keeps the relative href as written; the click goes where the base said.
    expect(rawOf(msg).get(2)).toBe('../../kaffee/huila-herbst?utm_source=herbst');
    expect(dests.get(5)).toBe('https://shop.test/de/konto/bestellungen/vorderid?utm_source=herbst');
    // Non-ASCII goes to the Location as a browser requests it: UTF-8 percent-escapes, the host in punycode.
    expect(dests.get(8)).toBe('https://shop.test/caf%C3%A9/%C3%B6ffnungszeiten?tag=sonntag&q=na%C3%AFve');
    expect(dests.get(9)).toBe('https://xn--bcher-kva.shop.test/kaffee');
    expect(html).toContain('<a href="#oben">Nach oben</a>');
  });

  it('reading-list: plain-text URLs cut as linkifiers do, parentheses and braces balanced', () => {
    const { msg, text } = compiled('reading-list.html');
    expect(msg.links.filter((l) => l.part === 'text').map((l) => [l.url, l.reason ?? 'tracked'])).toEqual([
      ['https://en.wikipedia.org/wiki/Coffea_arabica', 'tracked'],
      ['https://en.wikipedia.org/wiki/Coffea_canephora', 'tracked'],
      ['https://shop.test/journal/tasting-sheet', 'tracked'],
      ['https://shop.test/journal/roast-curves', 'tracked'],
      ['https://shop.test/journal/water', 'tracked'],
      ['https://shop.test/account/orders/{{ attributes.order_id }}', 'tracked'],
      ['https://shop.test/journal/archive?from=*|LIST:ID|*', 'foreign-tag'],
    ]);
    // The URLs the HTML part also has are its placements.
    expect(text).toContain('for the pub quiz: @@0@@\n- Java (the island, @@1@@), not the language.\n- Kaffee (Getränk), in German: <@@2@@>\n- Café culture, naïvely: @@3@@.\n');
    expect(text).toContain('(@@6@@), and its cousin @@7@@.\n');
    expect(text).toContain('{@@8@@}\n- A list in brackets: [@@9@@], then "@@10@@".');
    expect(text).toContain('Taste the Java estate: @@4@@!\nYour orders (@@11@@) and letter settings: @@5@@\nPast letters: https://shop.test/journal/archive?from=*|LIST:ID|*\n');
  });

  it('password-reset.html: {{action_url}} twice is two links; the commented-out anchor is not one', () => {
    const { msg, html } = compiled('password-reset.html');
    expect(msg.links.map((l) => [l.url, l.text])).toEqual([
      ['{{action_url}}', 'Choose a new password'],
      ['{{support_url}}', 'Tell our support team'],
      ['{{action_url}}', '{{action_url}}'],
      ['https://shop.test/account/security?utm_source=password-reset&utm_medium=email', 'Security settings'],
    ]);
    expect(html).toContain('<!-- Retired in March: <a href="https://shop.test/account/forgot?legacy=1">reset on the old site</a> -->');
    expect(html).toContain('<a href="@@2@@" style="font-family');
  });

  it('legacy-markup.html: hand-written HTML with parse errors, CRLF and every way of writing an href', () => {
    const { src, msg } = compiled('legacy-markup.html');
    const errors: ParserError[] = [];
    parse(src, { onParseError: (e) => errors.push(e) });
    expect(new Set(errors.map((e) => e.code))).toEqual(
      new Set(['missing-doctype', 'unexpected-character-in-unquoted-attribute-value', 'missing-semicolon-after-character-reference']),
    );
    expect(src.split('\r\n').length).toBe(src.split('\n').length);
    expect(msg.links.map((l) => [l.url, l.tracked])).toEqual([
      ['https://shop.test/open-day?utm_source=openday&utm_medium=email', true],
      ['https://shop.test/open-day/tours?slot=morning&utm_source=openday', true],
      ['https://shop.test/open-day/cupping?utm_source=openday&utm_medium=email', true],
      ['https://shop.test/open-day/kids?utm_source=openday', true],
      ['https://shop.test/open-day/parking', true],
      ['{{rsvp_url}}', true],
      ['https://shop.test/beans/open-day-blend', true],
      ['tel:+441632960123', false],
      ['#top', false],
      ['mailto:hello@shop.test?subject=Open%20day', false],
      ['https://shop.test/unsubscribe?e={{email}}&list=events', true],
    ]);
    // Each slot is the value exactly as written: quotes, case, padding and entities kept outside or inside as they were.
    const raw = rawOf(msg);
    expect(raw.get(1)).toBe('https://shop.test/open-day/tours?slot=morning&amp;utm_source=openday');
    expect(raw.get(2)).toBe('https://shop.test/open-day/cupping?utm_source=openday&amp;utm_medium=email');
    expect(raw.get(4)).toBe('  https://shop.test/open-day/parking  ');
    expect(src).toContain(`<a href='${raw.get(1)}'>`);
    expect(src).toContain(`<a href=${raw.get(2)}>`);
    expect(src).toContain(`<A\r\n   HREF = "${raw.get(3)}"`);
    expect(msg.links[5]!.text).toBe("I'll be there");
  });

  it('review-request.html: five ratings, &#38; and &amp; alike, and one review link twice', () => {
    const { msg, dests } = compiled('review-request.html');
    const stars = msg.links.filter((l) => l.url.includes('rating='));
    expect(stars.map((l) => new URL(l.url.replace('{{attributes.order_id}}', 'x')).searchParams.get('rating'))).toEqual(['1', '2', '3', '4', '5']);
    expect(rawOf(msg).get(2)).toBe('https://shop.test/reviews/new?order={{attributes.order_id}}&#38;rating=3&#38;utm_source=review');
    expect(dests.get(2)).toBe('https://shop.test/reviews/new?order=vorderid&rating=3&utm_source=review');
    expect(msg.links.filter((l) => l.url === '{{review_url}}').map((l) => l.position)).toEqual([5, 7]);
    expect(dests.get(5)).toBe('https://example.com/review_url');
    expect(tracked(msg)).toHaveLength(9);
  });

  it('large-digest.html: over 100 KB and 150 product links, each placement its own link', () => {
    const { src, msg, html, dests } = compiled('large-digest.html');
    expect(src.length).toBeGreaterThan(100_000);
    const products = msg.links.filter((l) => l.tracked && /shop\.test\/(beans|basket)\//.test(l.url));
    expect(products.length).toBeGreaterThanOrEqual(150);
    expect(new Set(products.map((l) => l.position)).size).toBe(products.length);
    // A product's picture and its name are two placements of one URL.
    const first = products[0]!;
    expect(products[1]).toMatchObject({ url: first.url, tracked: true });
    expect(products[1]!.position).toBe(first.position + 1);
    expect(new Set(html.match(/@@\d+@@/g)).size).toBe(tracked(msg).length);
    expect(dests.get(first.position)).toMatch(/utm_campaign=vcampaign$/);
    // The table of contents and "back to the top" are in-page anchors, left alone.
    expect(msg.links.filter((l) => l.url.startsWith('#')).every((l) => !l.tracked)).toBe(true);
    expect(msg.links.filter((l) => l.url.startsWith('#')).length).toBeGreaterThanOrEqual(8);
    // A tag written in 112 links is listed for the send's check once, its first ten places named.
    expect(msg.tags!.find((t) => t.tag === '{{attributes.campaign}}')!.where).toMatch(/^link 6 \(html line 62\), link 7 \(html line 68\), (link \d+ \(html line \d+\), ){8}and 102 more$/);
  });
});

describe('links in hard markup', () => {
  it('decodes &amp; in the url and keeps the raw bytes', () => {
    const src = '<p><a href="https://x.com/?a=1&amp;b=2&#38;c=3">go</a></p>';
    const { msg, html, back, dests } = roundTrip(src);
    expect(msg.links[0]).toMatchObject({ url: 'https://x.com/?a=1&b=2&c=3', tracked: true, text: 'go' });
    expect(rawOf(msg).get(0)).toBe('https://x.com/?a=1&amp;b=2&#38;c=3');
    expect(html).toBe('<p><a href="@@0@@">go</a></p>');
    expect(dests.get(0)).toBe('https://x.com/?a=1&b=2&c=3');
    expect(back).toBe(src);
  });

  it('handles single-quoted, unquoted and upper-case anchors', () => {
    const src = `<A HREF='https://a.com/1'>one</A><a href=https://b.com/2>two</a><a\n  Href = "https://c.com/3" >three</a>`;
    const { msg, html, back } = roundTrip(src);
    expect(msg.links.map((l) => [l.url, l.tracked])).toEqual([
      ['https://a.com/1', true],
      ['https://b.com/2', true],
      ['https://c.com/3', true],
    ]);
    expect(html).toBe(`<A HREF='@@0@@'>one</A><a href=@@1@@>two</a><a\n  Href = "@@2@@" >three</a>`);
    expect(back).toBe(src);
  });

  it('keeps CRLF sources exact', () => {
    const src = '<html>\r\n<body>\r\n<a\r\nhref="https://x.com/">x</a>\r\n</body>\r\n</html>\r\n';
    expect(roundTrip(src).back).toBe(src);
  });

  it('tracks VML shapes and anchors inside downlevel-hidden conditional comments, bytes exact', () => {
    const src =
      '<!--[if mso]><v:roundrect href="https://mso.com"><a href="https://mso.com/a?x=1&amp;y=2">mso</a></v:roundrect><![endif]-->' +
      '<!--[if !mso]><!--><a href="https://web.com">web</a><!--<![endif]-->';
    const { msg, html, back, dests } = roundTrip(src);
    expect(msg.links.map((l) => [l.url, l.text])).toEqual([
      ['https://mso.com', ''],
      ['https://mso.com/a?x=1&y=2', 'mso'],
      ['https://web.com', 'web'],
    ]);
    expect(html).toBe('<!--[if mso]><v:roundrect href="@@0@@"><a href="@@1@@">mso</a></v:roundrect><![endif]--><!--[if !mso]><!--><a href="@@2@@">web</a><!--<![endif]-->');
    expect(rawOf(msg).get(1)).toBe('https://mso.com/a?x=1&amp;y=2');
    expect(dests.get(1)).toBe('https://mso.com/a?x=1&y=2');
    expect(back).toBe(src);
  });

  it('makes a VML button and its fallback one placement only when they are side by side with one destination', () => {
    const vml = (href: string) => `<!--[if mso]><v:roundrect href="${href}"><center>Go</center></v:roundrect><![endif]-->`;
    const one = (src: string) => compileMessage(src, null, ON).links.map((l) => l.position);
    // Side by side (either order, blanks and markup between): one.
    expect(one(`${vml('https://x.test/')}\n <div><a href="https://x.test/">Go</a></div>`)).toEqual([0]);
    expect(one(`<a href="https://x.test/">Go</a><!--[if mso]>${vml('https://x.test/').slice(13)}`)).toEqual([0]);
    // Other destinations, text between, or two real anchors (every client shows both): two.
    expect(one(`${vml('https://x.test/')}<a href="https://x.test/other">Go</a>`)).toEqual([0, 1]);
    expect(one(`${vml('https://x.test/')}<p>or</p><a href="https://x.test/">Go</a>`)).toEqual([0, 1]);
    expect(one('<a href="https://x.test/"><img alt="x"></a><a href="https://x.test/">Go</a>')).toEqual([0, 1]);
    // Nested, a shape in Outlook's comment inside the anchor: one.
    expect(one(`<a href="https://x.test/">Go ${vml('https://x.test/')}</a>`)).toEqual([0]);
    // Two Outlook-only shapes both show in Outlook: two.
    expect(one(`${vml('https://x.test/')}${vml('https://x.test/')}`)).toEqual([0, 1]);
    const msg = compileMessage(`${vml('https://x.test/')}<a href="https://x.test/">Go now</a>`, null, ON);
    expect(msg.links).toEqual([{ position: 0, url: 'https://x.test/', text: 'Go', tracked: true, part: 'html' }]);
  });

  it('tracks <area href> like an anchor, and lists it with its alt', () => {
    const src = '<img usemap="#m"><map name="m"><area shape="rect" href="https://x.test/a" alt=" Area  A "><area href="#top" alt="top"><area nohref alt=""></map>';
    const { msg, html, back } = roundTrip(src);
    expect(msg.links).toEqual([
      { position: 0, url: 'https://x.test/a', text: 'Area A', tracked: true, part: 'html' },
      { position: 1, url: '#top', text: 'top', tracked: false, reason: 'not-http', part: 'html' },
    ]);
    expect(html).toContain('<area shape="rect" href="@@0@@" alt=" Area  A ">');
    expect(back).toBe(src);
  });

  it('resolves relative hrefs against an absolute <base href>, and only then tracks them', () => {
    const src = (base: string) => `<head>${base}</head><a href="p/q?x={{email}}&amp;y=1">1</a><a href="/r">2</a><a href="//cdn.test/s">3</a><a href="#t">4</a><a href="">5</a>`;
    const under = compileMessage(src('<base href="https://shop.test/a/b/">'), null, ON);
    expect(under.links.map((l) => [l.url, l.reason ?? 'tracked'])).toEqual([
      ['https://shop.test/a/b/p/q?x={{email}}&y=1', 'tracked'],
      ['https://shop.test/r', 'tracked'],
      ['https://cdn.test/s', 'tracked'],
      ['#t', 'not-http'],
      ['', 'not-http'],
    ]);
    expect(renderMarked(under, NOBODY).dests.get(0)).toBe('https://shop.test/a/b/p/q?x=ann%40example.com&y=1');
    for (const base of ['', '<base href="/relative/">', '<base href="{{attributes.site}}">', '<base target="_blank">']) {
      expect(compileMessage(src(base), null, ON).links.slice(0, 3).map((l) => l.reason)).toEqual(['not-http', 'not-http', 'not-http']);
    }
  });

  it('finds anchors inside <noscript>, which mail clients (running no scripts) show', () => {
    const src = '<body><noscript><a href="https://x.test/ns">no script</a></noscript></body>';
    const { msg, back } = roundTrip(src);
    expect(msg.links.map((l) => [l.url, l.tracked])).toEqual([['https://x.test/ns', true]]);
    expect(back).toBe(src);
  });

  it('leaves an anchor inside a normal comment alone', () => {
    const src = '<p><!-- old: <a href="https://old.com">old</a> --><a href="https://new.com">new</a></p>';
    const { msg, html, back } = roundTrip(src);
    expect(msg.links.map((l) => l.url)).toEqual(['https://new.com']);
    expect(html).toBe('<p><!-- old: <a href="https://old.com">old</a> --><a href="@@0@@">new</a></p>');
    expect(back).toBe(src);
  });

  it('counts two anchors with the same URL as two links', () => {
    const src = '<a href="https://x.com">top</a> <a href="https://x.com">bottom</a>';
    const { msg, html } = roundTrip(src);
    expect(msg.links).toEqual([
      { position: 0, url: 'https://x.com', text: 'top', tracked: true, part: 'html' },
      { position: 1, url: 'https://x.com', text: 'bottom', tracked: true, part: 'html' },
    ]);
    expect(html).toBe('<a href="@@0@@">top</a> <a href="@@1@@">bottom</a>');
  });

  it('trims whitespace around href values but keeps it in the raw bytes', () => {
    const src = '<a href="  https://x.com/a \n">a</a><a href=" mailto:x@y.com ">m</a>';
    const { msg, html, back } = roundTrip(src);
    expect(msg.links.map((l) => [l.url, l.tracked])).toEqual([
      ['https://x.com/a', true],
      ['mailto:x@y.com', false],
    ]);
    expect(rawOf(msg).get(0)).toBe('  https://x.com/a \n');
    expect(html).toBe('<a href="@@0@@">a</a><a href=" mailto:x@y.com ">m</a>');
    expect(back).toBe(src);
  });

  it('leaves non-http hrefs untouched with reason not-http', () => {
    const hrefs = ['mailto:a@b.com', 'tel:+15551234', 'sms:+15551234', '#top', '/relative', 'page.html', 'javascript:alert(1)', 'data:text/html,hi', 'ftp://x.com', '', 'https://exa mple.com'];
    const src = hrefs.map((h) => `<a href="${h}">x</a>`).join('') + '<a href>bare</a><a name="n">no href</a>';
    const { msg, html } = roundTrip(src);
    expect(msg.links.map((l) => l.url)).toEqual([...hrefs, '']);
    expect(msg.links.every((l) => !l.tracked && l.reason === 'not-http')).toBe(true);
    expect(html).toBe(src);
  });

  it('honours data-clicktrail="off"', () => {
    const src = '<a href="https://x.com" data-clicktrail="off">x</a><a href="https://x.com" data-clicktrail="on">y</a>';
    const { msg, html } = roundTrip(src);
    expect(msg.links.map((l) => [l.tracked, l.reason])).toEqual([
      [false, 'opt-out'],
      [true, undefined],
    ]);
    expect(html).toBe('<a href="https://x.com" data-clicktrail="off">x</a><a href="@@1@@" data-clicktrail="on">y</a>');
  });

  it('never rewrites universal-link domains or their subdomains', () => {
    const src = ['https://app.shop.com/p', 'https://DEEP.App.Shop.com/p', 'https://notapp.shop.com/p', 'https://shop.com/p', 'https://evilapp.shop.com/x'].map((h) => `<a href="${h}">x</a>`).join('');
    const { msg, html } = roundTrip(src, { clickTracking: true, universalLinkDomains: ['App.Shop.com', 'deep.example.org'] });
    expect(msg.links.map((l) => l.reason ?? 'tracked')).toEqual(['universal-link', 'universal-link', 'tracked', 'tracked', 'tracked']);
    expect(html).toContain('href="https://app.shop.com/p"');
    expect(html).toContain('href="https://DEEP.App.Shop.com/p"');
  });

  it('with click tracking off, leaves every http link as written', () => {
    const src = '<a href="https://x.com">x</a><a href="{{action_url}}">a</a><a href="tel:1">t</a>';
    const msg = compileMessage(src, null, { clickTracking: false, universalLinkDomains: [] });
    expect(msg.links.map((l) => l.reason)).toEqual(['tracking-off', 'tracking-off', 'not-http']);
    expect(renderMarked(msg, { ...NOBODY, attributes: { action_url: 'https://a.com' } }).html).toBe(
      '<a href="https://x.com">x</a><a href="https://a.com">a</a><a href="tel:1">t</a>',
    );
  });

  it('applies reasons in order: not-http, foreign-tag, opt-out, universal-link, tracking-off', () => {
    const opts = { clickTracking: false, universalLinkDomains: ['u.com'] };
    const src =
      '<a href="tel:1" data-clicktrail="off">1</a><a href="https://u.com/{{ .Id }}" data-clicktrail="off">2</a><a href="https://u.com" data-clicktrail="off">3</a>' +
      '<a href="https://u.com">4</a><a href="https://x.com">5</a>';
    expect(compileMessage(src, null, opts).links.map((l) => l.reason)).toEqual(['not-http', 'foreign-tag', 'opt-out', 'universal-link', 'tracking-off']);
  });

  it('takes collapsed anchor text, capped at 200 chars, else the first image alt', () => {
    const long = 'word '.repeat(60);
    const src =
      '<a href="https://a.com">\n  Read <b>the\t full</b>\n story </a>' +
      '<a href="https://b.com"><img src="x.png" alt=" Logo  here "><img alt="second"></a>' +
      `<a href="https://c.com">${long}</a><a href="https://d.com"><img src="x.png"></a>`;
    const texts = compileMessage(src, null, ON).links.map((l) => l.text);
    expect(texts[0]).toBe('Read the full story');
    expect(texts[1]).toBe('Logo here');
    expect(texts[2]).toBe(long.slice(0, 200).trim());
    expect(texts[3]).toBe('');
  });

  it('does not double-count an anchor the tree builder reopens', () => {
    const src = '<p><a href="https://x.com">one</p><p>two</a></p>';
    const { msg, html, back } = roundTrip(src);
    expect(msg.links).toHaveLength(1);
    expect(html).toBe('<p><a href="@@0@@">one</p><p>two</a></p>');
    expect(back).toBe(src);
  });
});

describe('merge tags', () => {
  const tom: MergeValues = {
    email: 'tom+cat@example.com',
    name: '<b>Tom & "Jerry"</b>',
    attributes: { action_url: 'https://app.com/go?x=1&y=2', plan: 'pro', seats: 3, vip: false, empty: '', gone: null, 'a.b': 'dotted' },
  };

  it('encodes tags inside a tracked href and uses a whole-href tag as the URL', () => {
    const src = '<a href="https://x.com/?e={{email}}&amp;p={{ plan }}">x</a><a href="{{action_url}}">go</a>';
    const msg = compileMessage(src, null, ON);
    expect(msg.links.map((l) => [l.url, l.tracked])).toEqual([
      ['https://x.com/?e={{email}}&p={{ plan }}', true],
      ['{{action_url}}', true],
    ]);
    const { html, dests } = renderMarked(msg, tom);
    expect(html).toBe('<a href="@@0@@">x</a><a href="@@1@@">go</a>');
    expect(dests.get(0)).toBe('https://x.com/?e=tom%2Bcat%40example.com&p=pro');
    expect(dests.get(1)).toBe('https://app.com/go?x=1&y=2');
  });

  it('HTML-escapes the tracked href the hook returns', () => {
    const msg = compileMessage('<a href="https://x.com">x</a>', null, ON);
    expect(renderHtml(msg, tom, { trackedHref: () => 'https://l.com/c/a?b=1&c="2"', footerHtml: '' })).toBe(
      '<a href="https://l.com/c/a?b=1&amp;c=&quot;2&quot;">x</a>',
    );
  });

  it('writes the value instead of a tracked link when a tag does not resolve to http(s)', () => {
    const src = '<a href="{{action_url}}">a</a><a href="{{ action_url | https://fallback.com/ }}">b</a><a href="{{attributes.action_url}}">c</a>';
    const msg = compileMessage(src, null, ON);
    // No attribute: the bare tag is someone else's and stays as written; the fallback and the attributes. form are ours.
    const missing = renderMarked(msg, NOBODY);
    expect(missing.html).toBe('<a href="{{action_url}}">a</a><a href="@@1@@">b</a><a href="">c</a>');
    expect(missing.dests.get(1)).toBe('https://fallback.com/');
    const odd = renderMarked(msg, { ...NOBODY, attributes: { action_url: 'mailto:a@b.com?s="x"' } });
    expect(odd.html).toBe('<a href="mailto:a@b.com?s=&quot;x&quot;">a</a><a href="mailto:a@b.com?s=&quot;x&quot;">b</a><a href="mailto:a@b.com?s=&quot;x&quot;">c</a>');
    expect(odd.dests.size).toBe(0);
  });

  it('HTML-escapes values in text and other attributes', () => {
    const src = '<p title="{{name}}">Hi {{ name }}, you are on {{plan}}.</p>';
    expect(renderMarked(compileMessage(src, null, ON), tom).html).toBe(
      '<p title="&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;">Hi &lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;, you are on pro.</p>',
    );
  });

  it('fills tags in untracked hrefs, HTML-escaped', () => {
    const src = '<a href="mailto:{{support_email}}?subject={{ subject | Hello &amp; bye }}">mail</a>';
    const msg = compileMessage(src, null, ON);
    expect(msg.links[0]).toMatchObject({ url: 'mailto:{{support_email}}?subject={{ subject | Hello & bye }}', tracked: false });
    expect(msg.html).toContainEqual({ hrefMerge: 'support_email', fallback: '', asWritten: '{{support_email}}' });
    const html = renderMarked(msg, { ...NOBODY, attributes: { support_email: 'a&b@x.com' } }).html;
    expect(html).toBe('<a href="mailto:a&amp;b@x.com?subject=Hello &amp; bye">mail</a>');
  });

  it('looks names up and falls back', () => {
    const src =
      '[{{email}}][{{name}}][{{first_name}}][{{last_name}}][{{attributes.plan}}][{{seats}}][{{vip}}]' +
      '[{{empty|none}}][{{ gone | nobody }}][{{missing}}][{{attributes.a.b}}][{{constructor|safe}}][{{first_name|there}}]';
    const render = (v: MergeValues) => renderMarked(compileMessage(src, null, ON), v).html;
    expect(render({ email: 'e@x.com', name: '  Mary  Ann   Smith ', attributes: tom.attributes })).toBe(
      '[e@x.com][  Mary  Ann   Smith ][Mary][Ann   Smith][pro][3][false][none][nobody][{{missing}}][dotted][safe][Mary]',
    );
    // Fields and attributes.X are ours for everyone (empty when missing); a bare tag only for who has it.
    expect(render({ email: 'e@x.com', name: null, attributes: {} })).toBe('[e@x.com][][][][][{{seats}}][{{vip}}][none][nobody][{{missing}}][][safe][there]');
    expect(render({ email: 'e@x.com', name: null, attributes: { seats: null, vip: '' } })).toBe('[e@x.com][][][][][{{seats}}][][none][nobody][{{missing}}][][safe][there]');
  });

  it('leaves other template languages literal', () => {
    const src =
      '<p>{{#each items}}{{{raw}}}{{/each}}{{^empty}}{{! note }}{{> partial}}{{ 1bad }}{{name}}}' +
      '{{this.c2a_link}}{{ .Name }}{{ $x }}{{Campaign-Source}}{{ subscriber.uuid }}{{ end }}{{ else }}{{else}}{{ if .X }}{{ unsub "https://x" }}{{pm:unsubscribe}}</p>';
    expect(renderMarked(compileMessage(src, null, ON), { ...tom, attributes: { ...tom.attributes, end: 'E', this: 'T' } }).html).toBe(src);
  });

  it('tells the author at compose time which tags are not ours and which are filled only where a recipient has them', () => {
    const msg = compileMessage(
      '<p>{{first_name}} {{ plan }}\n{{#if vip}}{{this.x}}{{/if}}</p>\n<a href="https://x.test/{{ this.id }}">a</a><a href="https://x.test/?u=*|UNSUB|*">b</a><a href="https://x.test/{{plan}}">c</a>',
      'Hi {{first_name}}, {{ plan }}: https://x.test/t?{{ .Name }}',
      ON,
      'Hello {{first_name}} {{Subject}} {{{raw}}}',
    );
    expect(msg.warnings).toEqual([
      { tag: '{{Subject}}', where: 'subject', reason: 'attribute' },
      { tag: '{{{raw}}}', where: 'subject', reason: 'foreign' },
      { tag: '{{ plan }}', where: 'html line 1, text line 1', reason: 'attribute' },
      { tag: '{{#if vip}}', where: 'html line 2', reason: 'foreign' },
      { tag: '{{this.x}}', where: 'html line 2', reason: 'foreign' },
      { tag: '{{/if}}', where: 'html line 2', reason: 'foreign' },
      { tag: '{{ this.id }}', where: 'link 0 (html line 3)', reason: 'foreign' },
      { tag: '{{plan}}', where: 'link 2 (html line 3)', reason: 'attribute' },
      { tag: '*|UNSUB|*', where: 'link 1', reason: 'foreign' },
      { tag: '{{ .Name }}', where: 'link 3 (text line 1)', reason: 'foreign' },
    ]);
    expect(msg.links.map((l) => l.reason ?? 'tracked')).toEqual(['foreign-tag', 'foreign-tag', 'tracked', 'foreign-tag']);
    // Ours without a fallback, for the send to check: first_name in three places, the bare ones.
    expect(msg.tags).toEqual([
      { tag: '{{first_name}}', name: 'first_name', bare: false, where: 'subject, html line 1, text line 1' },
      { tag: '{{Subject}}', name: 'Subject', bare: true, where: 'subject' },
      { tag: '{{ plan }}', name: 'plan', bare: true, where: 'html line 1, text line 1' },
      { tag: '{{plan}}', name: 'plan', bare: true, where: 'link 2 (html line 3)' },
    ]);
  });

  it('tells a percent-escape, form brackets and an IPv6 host from another ESP\'s tags', () => {
    const reasons = (hrefs: string[]) => compileMessage(hrefs.map((h) => `<a href="${h}">x</a>`).join(''), null, ON).links.map((l) => l.reason ?? 'tracked');
    expect(reasons(['https://x.test/caf%C3%A9?q=%E2%80%99s%20a', 'https://x.test/?a[b]=1&c[]=2', 'http://[2001:db8::1]/x', 'https://x.test/50%25'])).toEqual(['tracked', 'tracked', 'tracked', 'tracked']);
    expect(reasons(['https://x.test/?e=%email%', 'https://x.test/[unsubscribe]', 'https://x.test/?n=${user.name}', 'https://x.test/{% url %}', 'https://x.test/<%= id %>', 'https://x.test/?n=%%FirstName%%', '[unsubscribe]', '%tag_unsubscribe_url%'])).toEqual(
      Array(8).fill('foreign-tag'),
    );
  });

  it('resolves destinations cheaply and safely', () => {
    expect(resolveDestination('https://x.com/a?b=1&c=2', NOBODY)).toBe('https://x.com/a?b=1&c=2');
    expect(resolveDestination('HTTP://X.com', NOBODY)).toBe('HTTP://X.com');
    expect(resolveDestination('https://x.com/?e={{email}}', NOBODY)).toBe('https://x.com/?e=ann%40example.com');
    expect(resolveDestination('{{action_url}}', tom)).toBe('https://app.com/go?x=1&y=2');
    expect(resolveDestination('{{action_url}}', NOBODY)).toBeNull();
    expect(resolveDestination('{{u}}', { ...NOBODY, attributes: { u: 'javascript:alert(1)' } })).toBeNull();
    expect(resolveDestination('{{u}}', { ...NOBODY, attributes: { u: ' https://x.com/ ' } })).toBe('https://x.com/');
    // Whatever a value holds, the destination is safe for a Location header.
    expect(resolveDestination('{{u}}', { ...NOBODY, attributes: { u: 'https://x.com/caf\u00e9 a\r\nb' } })).toBe('https://x.com/caf%C3%A9%20ab');
    // A bare tag the recipient does not have, or another language's tag: no destination of ours.
    expect(resolveDestination('{{u}}', NOBODY)).toBeNull();
    expect(resolveDestination('https://x.com/{{ .Name }}', NOBODY)).toBeNull();
    expect(resolveDestination('https://x.com/?u=*|UNSUB|*', NOBODY)).toBeNull();
    expect(resolveDestination('mailto:a@b.com', NOBODY)).toBeNull();
    expect(resolveDestination('https://', NOBODY)).toBeNull();
  });
});

describe('a message compiled before tags were told apart', () => {
  // As stored then: every {{…}} a plain merge slot, no warnings, no tag list.
  const old: CompiledMessage = {
    links: [
      { position: 0, url: 'https://x.test/u/{{ subscriber.uuid }}', text: 'u', tracked: true, part: 'html' },
      { position: 1, url: 'https://x.test/?e={{email}}', text: 'e', tracked: true, part: 'html' },
    ],
    html: ['<p>Hi ', { merge: 'first_name', fallback: '' }, '</p><a href="', { link: 0, raw: 'https://x.test/u/{{ subscriber.uuid }}' }, '">u</a><a href="', { link: 1, raw: 'https://x.test/?e={{email}}' }, '">e</a>', { footer: true }],
    text: null,
  };

  it('renders as before, but never makes a link of ours of another language\'s tag', () => {
    const { html, dests } = renderMarked(old, { email: 'a@b.test', name: null, attributes: {} });
    expect(html).toBe('<p>Hi </p><a href="https://x.test/u/{{ subscriber.uuid }}">u</a><a href="@@1@@">e</a>');
    expect(dests.get(1)).toBe('https://x.test/?e=a%40b.test');
  });

  it('still says at send time who lacks a value', async () => {
    const { MissingValues } = await import('../../server/rewrite/missing.ts');
    const check = new MissingValues(old, 'Hi {{first_name}} {{plan}}');
    check.add('a@b.test', { email: 'a@b.test', name: null, attributes: {} });
    check.add('c@b.test', { email: 'c@b.test', name: 'Cy', attributes: { plan: 'pro' } });
    expect(check.warnings()).toEqual([
      { tag: '{{first_name}}', where: 'subject, html', reason: 'missing', recipients: ['a@b.test'], count: 1 },
      { tag: '{{plan}}', where: 'subject', reason: 'missing', recipients: ['a@b.test'], count: 1 },
    ]);
  });
});

describe('footer slot', () => {
  const footer = (src: string) => renderMarked(compileMessage(src, null, ON), NOBODY, '<img src="o">').html;
  it('goes right before </body>, whatever its case', () => {
    expect(footer('<html><body><p>hi</p></body></html>')).toBe('<html><body><p>hi</p><img src="o"></body></html>');
    expect(footer('<HTML><BODY><P>hi</BODY></HTML>')).toBe('<HTML><BODY><P>hi<img src="o"></BODY></HTML>');
    expect(footer('<body>a</body>\n<p>late</p>')).toBe('<body>a<img src="o"></body>\n<p>late</p>');
  });
  it('goes at the very end without </body>', () => {
    expect(footer('<p>hi</p>\n')).toBe('<p>hi</p>\n<img src="o">');
    expect(footer('')).toBe('<img src="o">');
  });
  it('is the only footer segment', () => {
    const msg = compileMessage('<body>x</body>', 'text', ON);
    expect(msg.html.filter((s) => typeof s === 'object' && 'footer' in s)).toHaveLength(1);
    expect(msg.text).toEqual(['text']);
  });
});

describe('plain-text part', () => {
  const html =
    '<a href="https://x.com/a?b=1&amp;c=2">x</a><a href="https://x.com/a?b=1&amp;c=2">again</a>' +
    '<a href="{{action_url}}">act</a><a href="https://app.u.com/p">u</a><a href="https://off.com" data-clicktrail="off">o</a>';
  const text =
    'Hi {{first_name}} & co,\nSee https://x.com/a?b=1&c=2. Also (https://only-text.com/page), "https://only-text.com/page"!\n' +
    'Act: {{action_url}}\nApp: https://app.u.com/p\nOff: https://off.com\nNew: https://t.u.com/q?x=1;\nhttps://';

  it('points shared URLs at the html link and appends text-only ones', () => {
    const msg = compileMessage(html, text, { clickTracking: true, universalLinkDomains: ['u.com'] });
    expect(msg.links.slice(5)).toEqual([
      { position: 5, url: 'https://only-text.com/page', text: '', tracked: true, part: 'text' },
      { position: 6, url: 'https://t.u.com/q?x=1', text: '', tracked: false, reason: 'universal-link', part: 'text' },
    ]);
    const out = renderMarked(msg, { email: 'e@x.com', name: 'Tom & Co', attributes: { action_url: 'https://act.com' } });
    expect(out.text).toBe(
      'Hi Tom & co,\nSee @@0@@. Also (@@5@@), "@@5@@"!\n' +
        'Act: @@2@@\nApp: https://app.u.com/p\nOff: https://off.com\nNew: https://t.u.com/q?x=1;\nhttps://',
    );
    expect(out.dests.get(5)).toBe('https://only-text.com/page');
    expect(out.dests.get(2)).toBe('https://act.com');
  });

  it('follows tracking-off for text-only links', () => {
    const msg = compileMessage('<p>x</p>', 'Go https://x.com/p.', { clickTracking: false, universalLinkDomains: [] });
    expect(msg.links).toEqual([{ position: 0, url: 'https://x.com/p', text: '', tracked: false, reason: 'tracking-off', part: 'text' }]);
    expect(renderMarked(msg).text).toBe('Go https://x.com/p.');
  });

  it('is null when there is no text part', () => {
    const msg = compileMessage('<p>x</p>', null, ON);
    expect(msg.text).toBeNull();
    expect(renderMarked(msg).text).toBeNull();
  });
});

describe('recipient values in a whole-href merge tag', () => {
  it('never become a script link', () => {
    const msg = compileMessage('<a href="{{action_url}}">go</a>', null, { clickTracking: true, universalLinkDomains: [] });
    const hooks = { trackedHref: () => 'https://links.test/c/T', footerHtml: '' };
    const render = (action_url: string) => renderHtml(msg, { email: 'a@b.co', name: null, attributes: { action_url } }, hooks);
    expect(render('https://app.test/x')).toBe('<a href="https://links.test/c/T">go</a>');
    expect(render('mailto:help@shop.test')).toBe('<a href="mailto:help@shop.test">go</a>');
    for (const evil of ['javascript:alert(1)', ' JavaScript:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<b>x</b>', 'vbscript:msgbox(1)']) {
      expect(render(evil)).toBe('<a href="#">go</a>');
    }
  });
});
