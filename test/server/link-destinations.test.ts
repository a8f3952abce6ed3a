import { describe, expect, it } from 'vitest';
import { useTestServer, type TestServer } from '../support/server.ts';
import { hit, sendMessage } from '../support/tracking.ts';

let s: TestServer;
useTestServer((server) => {
  s = server;
});

describe('where the new kinds of placement redirect, through the real fast lane', () => {
  it('an Outlook button and its fallback share one token; an area, a base-relative and a non-ASCII link go where they were written', async () => {
    const html =
      '<html><head><base href="https://shop.test/letters/"></head><body>' +
      '<!--[if mso]><v:roundrect href="https://shop.test/book?x=1&amp;y=2"><center>Book</center></v:roundrect><![endif]-->' +
      '<a href="https://shop.test/book?x=1&amp;y=2" style="mso-hide:all">Book</a>' +
      '<map name="m"><area shape="rect" coords="0,0,9,9" href="https://shop.test/map/{{attributes.region}}" alt="Region"></map>' +
      '<a href="../beans/java?from={{email}}">Java</a>' +
      '<a href="https://shop.test/café?q=naïve">Café</a><a href="https://bücher.shop.test/">Books</a>' +
      '</body></html>';
    const sent = await sendMessage(s, html, [{ email: 'ann@shop.test', attributes: { region: 'Huila' } }]);
    expect(sent.links.map((l) => [l.position, l.url, l.text])).toEqual([
      [0, 'https://shop.test/book?x=1&y=2', 'Book'],
      [1, 'https://shop.test/map/{{attributes.region}}', 'Region'],
      [2, 'https://shop.test/beans/java?from={{email}}', 'Java'],
      [3, 'https://shop.test/café?q=naïve', 'Café'],
      [4, 'https://bücher.shop.test/', 'Books'],
    ]);
    const [vml, fallback, area, java, cafe, books] = sent.copies.get('ann@shop.test')!.links;
    expect(vml).toBe(fallback);
    const location = async (path: string) => (await hit(s, path)).headers.get('location');
    expect(await location(vml!)).toBe('https://shop.test/book?x=1&y=2');
    expect(await location(area!)).toBe('https://shop.test/map/Huila');
    expect(await location(java!)).toBe('https://shop.test/beans/java?from=ann%40shop.test');
    // A Location is ASCII: the browser asks for exactly these bytes when following the link as written.
    expect(await location(cafe!)).toBe('https://shop.test/caf%C3%A9?q=na%C3%AFve');
    expect(await location(cafe!)).toBe(new URL('https://shop.test/café?q=naïve').href);
    expect(await location(books!)).toBe('https://xn--bcher-kva.shop.test/');
  });
});
