import { describe, it, expect } from 'vitest';
import { parse, type DefaultTreeAdapterTypes as P5, type ParserError } from 'parse5';
import { compileMessage } from '../../server/rewrite/compile.ts';
import { renderHtml, renderText, resolveDestination } from '../../server/rewrite/render.ts';
import type { CompiledMessage, CompileOptions, MergeValues } from '../../server/rewrite/template.ts';
import { fixtureTemplates } from '../support/server.ts';

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

// Fixture tags have no fallbacks; this pattern is all the test needs to fill them independently.
const TAG = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;
const WHOLE = /^\{\{\s*[A-Za-z_][\w.-]*\s*\}\}$/;
const FIXTURE_NAME = 'Ann Lee';
const FIXTURE_EMAIL = 'ann+beans@example.com';
/** A recipient value for every tag a fixture uses: the attribute X answers both `{{X}}` and `{{attributes.X}}`. */
const valueFor = (tag: string): string => {
  const name = tag.replace(/^attributes\./, '');
  if (tag === 'email') return FIXTURE_EMAIL;
  if (tag === 'name') return FIXTURE_NAME;
  if (tag === 'first_name') return 'Ann';
  if (tag === 'last_name') return 'Lee';
  return name.endsWith('_url') ? `https://example.com/${name}` : `v${name.replace(/[^A-Za-z0-9]/g, '')}`;
};
/** Tags filled as in text: the values above hold nothing to HTML-escape. */
const fill = (s: string) => s.replace(TAG, (_, tag: string) => valueFor(tag));
/** A link's destination: a whole-href tag is the URL itself; tags inside a URL are percent-encoded. */
const destinationOf = (url: string) =>
  WHOLE.test(url) ? fill(url) : url.replace(TAG, (_, tag: string) => encodeURIComponent(valueFor(tag)));
const valuesFor = (src: string): MergeValues => ({
  email: FIXTURE_EMAIL,
  name: FIXTURE_NAME,
  attributes: Object.fromEntries([...src.matchAll(TAG)].map((m) => m[1]!.replace(/^attributes\./, '')).map((n) => [n, valueFor(n)])),
});

const TEMPLATES = new Map(fixtureTemplates());
const fixture = (name: string) => TEMPLATES.get(name) ?? expect.unreachable(`no fixture ${name}`);
const tracked = (msg: CompiledMessage) => msg.links.filter((l) => l.tracked).map((l) => l.url);

describe('real templates round-trip', () => {
  it('finds the fixtures, and together they carry every hard structure their README lists', () => {
    expect(TEMPLATES.size).toBeGreaterThanOrEqual(8);
    const all = [...TEMPLATES.values()].join('\n');
    for (const structure of [
      /<style[^>]*>[^<]*\{/i, // a style block
      / style="[^"]+"/, // inlined CSS
      /<table[^>]*>\s*<tr[^>]*>\s*<td[^>]*>\s*<table/i, // nested layout tables
      /<!--\[if mso\]>/,
      /<!--\[if !mso\]><!-->[^]*?<a [^]*?<!--<!\[endif\]-->/,
      /<!--\[if mso\]>\s*<v:roundrect [^>]*href="https:\/\/[^"]+"/,
      /<!--\[if mso\]>\s*<v:roundrect [^>]*href="\{\{action_url\}\}"/,
      /<map [^>]*>\s*<area [^>]*href="https:/,
      /href="https:\/\/[^"]*\?[^"]*&amp;utm_source=/,
      /href="https:\/\/[^"]*&#38;/,
      /<A HREF="https:/,
      /href='https:/,
      /href=https:\/\//,
      /HREF = "/,
      /href="\{\{action_url\}\}"/,
      /href="https:\/\/shop\.test\/orders\/\{\{attributes\.order_id\}\}"/,
      /\{\{first_name\}\}/,
      /href="mailto:/,
      /href="mailto:\{\{support_email\}\}/,
      /href="tel:/,
      /href="sms:/,
      /href="#[a-z]/,
      /<!-- [^>]*<a href="https:/, // an anchor inside a plain comment
      /\r\n/,
    ]) {
      expect(all, String(structure)).toMatch(structure);
    }
  });

  it.each([...TEMPLATES.keys()])('%s', (file) => {
    const src = fixture(file);
    const values = valuesFor(src);
    const msg = compileMessage(src, null, ON);
    const { html, dests } = renderMarked(msg, values);

    // Byte-for-byte: only merge tags and tracked hrefs changed.
    expect(mapBack(html, msg, fill)).toBe(fill(src));

    // The footer slot sits right before </body>.
    const withFooter = renderMarked(msg, values, '<!--FOOTER-->').html;
    expect(mapBack(withFooter, msg, fill)).toBe(fill(src).replace(/<\/body>/i, '<!--FOOTER-->$&'));

    // The tracked links are exactly the http(s) and whole-merge-tag anchors of the original.
    const hrefs = hrefsOf(src);
    const expected = hrefs.filter((h) => /^https?:\/\//i.test(h) || WHOLE.test(h));
    const html_links = msg.links.filter((l) => l.part === 'html');
    expect(html_links.map((l) => l.url)).toEqual(hrefs);
    expect(html_links.map((l) => l.position)).toEqual(hrefs.map((_, i) => i));
    expect(tracked(msg)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
    expect(html.match(/@@\d+@@/g)).toHaveLength(expected.length);
    expect(dests.size).toBe(expected.length);
    for (const [i, d] of dests) expect(d).toBe(destinationOf(msg.links[i]!.url));

    // mailto:, tel: and sms: hrefs come out as written (tags filled), untracked.
    const direct = (h: string) => /^(mailto|tel|sms):/.test(h);
    expect(hrefsOf(html).filter(direct)).toEqual(hrefs.filter(direct).map(fill));
    expect(msg.links.filter((l) => direct(l.url)).every((l) => !l.tracked && l.reason === 'not-http')).toBe(true);
  });
});

// What the rewriter makes of each fixture's hard structures today. It tracks `<a href>` only:
// `<area href>`, VML `v:roundrect href` and anchors inside comments (MSO conditionals included)
// are left as written, their merge tags filled. Tracking those is later work; these lists change with it.
describe('the fixtures, link by link', () => {
  const compiled = (file: string) => {
    const src = fixture(file);
    const msg = compileMessage(src, null, ON);
    return { src, msg, ...renderMarked(msg, valuesFor(src)) };
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

  it('bulletproof-button.html: the fallback anchors are tracked, the VML hrefs in MSO comments are not', () => {
    const { msg, html } = compiled('bulletproof-button.html');
    const parcel = 'https://track.carrier.test/parcel?id={{attributes.tracking_number}}&lang=en&utm_source=shipping';
    expect(msg.links.map((l) => [l.url, l.tracked])).toEqual([
      ['https://shop.test/?utm_source=shipping&utm_medium=email', true],
      [parcel, true],
      ['{{action_url}}', true],
      ['mailto:orders@shop.test', false],
    ]);
    expect(html.match(/@@\d+@@/g)).toEqual(['@@0@@', '@@1@@', '@@2@@']);
    // The Outlook buttons point straight at the destinations, merge tags filled, untracked.
    expect(html).toContain('<v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" xmlns:w="urn:schemas-microsoft-com:office:word" href="https://track.carrier.test/parcel?id=vtrackingnumber&amp;lang=en&amp;utm_source=shipping"');
    expect(html).toContain('href="https://example.com/action_url" style="height:42px;');
  });

  it('image-map.html: <area href>s are left as written; the text links to the same places are tracked', () => {
    const { src, msg, html } = compiled('image-map.html');
    const areas = hrefsOf(src, 'area');
    expect(areas).toHaveLength(4);
    expect(hrefsOf(html, 'area')).toEqual(areas);
    const listed = msg.links.map((l) => l.url);
    for (const area of areas) {
      expect(listed).not.toContain(area);
      expect(listed).toContain(area.replace('utm_content=map', 'utm_content=list'));
    }
    // The logo and the banner are image links: their text is the image's alt.
    expect(msg.links.filter((l) => l.text.startsWith('Bean & Leaf') || l.text.startsWith('Try all four')).map((l) => l.tracked)).toEqual([true, true]);
    expect(msg.links.find((l) => l.url.startsWith('sms:'))).toMatchObject({ url: 'sms:+441632960456?body=BEANS', tracked: false });
    expect(tracked(msg)).toHaveLength(8);
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

  it('leaves anchors in MSO conditional comments alone and unlisted', () => {
    const src =
      '<!--[if mso]><v:roundrect href="https://mso.com"><a href="https://mso.com/a">mso</a></v:roundrect><![endif]-->' +
      '<!--[if !mso]><!--><a href="https://web.com">web</a><!--<![endif]-->';
    const { msg, html, back } = roundTrip(src);
    // The downlevel-revealed anchor is real markup; the one inside the MSO comment is not.
    expect(msg.links.map((l) => l.url)).toEqual(['https://web.com']);
    expect(html).toContain('<a href="https://mso.com/a">mso</a>');
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

  it('applies reasons in order: not-http, opt-out, universal-link, tracking-off', () => {
    const opts = { clickTracking: false, universalLinkDomains: ['u.com'] };
    const src =
      '<a href="tel:1" data-clicktrail="off">1</a><a href="https://u.com" data-clicktrail="off">2</a>' +
      '<a href="https://u.com">3</a><a href="https://x.com">4</a>';
    expect(compileMessage(src, null, opts).links.map((l) => l.reason)).toEqual(['not-http', 'opt-out', 'universal-link', 'tracking-off']);
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
    const src = '<a href="{{action_url}}">a</a><a href="{{ action_url | https://fallback.com/ }}">b</a>';
    const msg = compileMessage(src, null, ON);
    const missing = renderMarked(msg, NOBODY);
    expect(missing.html).toBe('<a href="">a</a><a href="@@1@@">b</a>');
    expect(missing.dests.get(1)).toBe('https://fallback.com/');
    const odd = renderMarked(msg, { ...NOBODY, attributes: { action_url: 'mailto:a@b.com?s="x"' } });
    expect(odd.html).toBe('<a href="mailto:a@b.com?s=&quot;x&quot;">a</a><a href="mailto:a@b.com?s=&quot;x&quot;">b</a>');
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
    expect(msg.html).toContainEqual({ hrefMerge: 'support_email', fallback: '' });
    const html = renderMarked(msg, { ...NOBODY, attributes: { support_email: 'a&b@x.com' } }).html;
    expect(html).toBe('<a href="mailto:a&amp;b@x.com?subject=Hello &amp; bye">mail</a>');
  });

  it('looks names up and falls back', () => {
    const src =
      '[{{email}}][{{name}}][{{first_name}}][{{last_name}}][{{attributes.plan}}][{{seats}}][{{vip}}]' +
      '[{{empty|none}}][{{ gone | nobody }}][{{missing}}][{{attributes.a.b}}][{{constructor|safe}}][{{first_name|there}}]';
    const render = (v: MergeValues) => renderMarked(compileMessage(src, null, ON), v).html;
    expect(render({ email: 'e@x.com', name: '  Mary  Ann   Smith ', attributes: tom.attributes })).toBe(
      '[e@x.com][  Mary  Ann   Smith ][Mary][Ann   Smith][pro][3][false][none][nobody][][dotted][safe][Mary]',
    );
    expect(render({ email: 'e@x.com', name: null, attributes: {} })).toBe('[e@x.com][][][][][][][none][nobody][][][safe][there]');
  });

  it('leaves other template languages literal', () => {
    const src = '<p>{{#each items}}{{{raw}}}{{/each}}{{^empty}}{{! note }}{{> partial}}{{ 1bad }}{{name}}}</p>';
    expect(renderMarked(compileMessage(src, null, ON), tom).html).toBe(src);
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
    expect(resolveDestination('mailto:a@b.com', NOBODY)).toBeNull();
    expect(resolveDestination('https://', NOBODY)).toBeNull();
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
