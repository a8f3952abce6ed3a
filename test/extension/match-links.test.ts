import { describe, expect, it } from 'vitest';
import { trackedLinkShape, trackedLinkToken, unwrapMailClientUrl } from '../../api/tracked-links.ts';
import type { LinkPlacement, ResolvedLink } from '../../api/types.ts';
import { matchByPosition, matchResolved, trackedCandidates } from '../../extension/overlay/match-links.ts';
import { clickToken, Keyring } from '../../server/tokens/tokens.ts';

const keys = new Keyring(['test-secret']);
const PUBLIC = 'http://links.shop.test';
const tracked = (recipientId: number, linkId: number) => `${PUBLIC}/c/${clickToken.sign(keys, recipientId, linkId)}`;
const gmail = (url: string) => `https://www.google.com/url?q=${encodeURIComponent(url)}&sa=D&source=editors&ust=1700000000000000&usg=AOvVaw0abc`;
const safelinks = (url: string) =>
  `https://eur01.safelinks.protection.outlook.com/?url=${encodeURIComponent(url)}&data=05%7C01%7C&sdata=abc%3D&reserved=0`;

describe('unwrapping mail client redirectors', () => {
  it('leaves a direct link alone', () => {
    const url = tracked(1, 2);
    expect(unwrapMailClientUrl(url)).toBe(url);
  });

  it('digs the link out of Gmail and Outlook safelinks wrappers, and out of both at once', () => {
    const url = tracked(1, 2);
    expect(unwrapMailClientUrl(gmail(url))).toBe(url);
    expect(unwrapMailClientUrl(safelinks(url))).toBe(url);
    expect(unwrapMailClientUrl(safelinks(gmail(url)))).toBe(url);
  });

  it('does not unwrap look-alike hosts or other paths', () => {
    const url = tracked(1, 2);
    expect(unwrapMailClientUrl(`https://google.com.evil.test/url?q=${encodeURIComponent(url)}`)).not.toBe(url);
    expect(unwrapMailClientUrl(`https://www.google.com/search?q=${encodeURIComponent(url)}`)).not.toBe(url);
    expect(unwrapMailClientUrl(`https://safelinks.protection.outlook.com.evil.test/?url=${encodeURIComponent(url)}`)).not.toBe(url);
  });

  it('recognises the tracked-link shape and checks the origin against the public URL', () => {
    const url = tracked(7, 9);
    const token = url.split('/c/')[1]!;
    expect(trackedLinkShape(gmail(url))).toEqual({ url, token });
    expect(trackedLinkToken(safelinks(url), PUBLIC)).toBe(token);
    expect(trackedLinkToken(safelinks(url), 'http://LINKS.shop.test/')).toBe(token);
    expect(trackedLinkToken(url, 'https://links.other.test')).toBeNull();
    expect(trackedLinkShape(`${url}?utm_source=x`)).toBeNull();
    expect(trackedLinkShape('https://shop.test/c/short')).toBeNull();
    expect(trackedLinkShape('mailto:someone@shop.test')).toBeNull();
  });
});

describe('matching anchors to placements', () => {
  const a = tracked(1, 10);
  const b = tracked(1, 11);
  const sameDestinationOtherPlacement = tracked(1, 12);
  const resolved: ResolvedLink[] = [
    { url: a, messageId: 3, linkId: 10, recipientId: 1 },
    { url: gmail(b), messageId: 3, linkId: 11, recipientId: 1 },
    { url: safelinks(sameDestinationOtherPlacement), messageId: 3, linkId: 12, recipientId: 1 },
  ];

  it('shortlists direct, Gmail-wrapped and safelinks-wrapped tracked links once each, and ignores foreign links', () => {
    const hrefs = [
      a,
      'https://shop.test/pricing',
      gmail(b),
      gmail('https://example.com/not-tracked'),
      safelinks(sameDestinationOtherPlacement),
      a,
      'mailto:help@shop.test',
    ];
    expect(trackedCandidates(hrefs)).toEqual([a, gmail(b), safelinks(sameDestinationOtherPlacement)]);
  });

  it('paints every anchor separately: a repeated URL gives two matches, two placements with one destination give two', () => {
    const hrefs = [a, 'https://elsewhere.test/', gmail(b), a, safelinks(sameDestinationOtherPlacement)];
    expect(matchResolved(hrefs, resolved)).toEqual([
      { anchor: 0, messageId: 3, linkId: 10 },
      { anchor: 2, messageId: 3, linkId: 11 },
      { anchor: 3, messageId: 3, linkId: 10 },
      { anchor: 4, messageId: 3, linkId: 12 },
    ]);
  });

  it('leaves out links the server did not recognise (a foreign or forged /c/ link)', () => {
    const forged = `${PUBLIC}/c/${'A'.repeat(22)}`;
    expect(trackedCandidates([forged])).toEqual([forged]);
    expect(matchResolved([forged, a], resolved)).toEqual([{ anchor: 1, messageId: 3, linkId: 10 }]);
  });

  it('matches the message view by anchor position, tracked HTML links only', () => {
    const link = (id: number, position: number, extra: Partial<LinkPlacement> = {}): LinkPlacement => ({
      id,
      url: 'https://shop.test/same',
      position,
      text: `link ${id}`,
      tracked: true,
      part: 'html',
      ...extra,
    });
    const links = [link(20, 0), link(21, 1, { tracked: false, reason: 'not-http' }), link(22, 2), link(23, 0, { part: 'text' }), link(24, 9)];
    expect(matchByPosition(3, 5, links)).toEqual([
      { anchor: 0, messageId: 5, linkId: 20 },
      { anchor: 2, messageId: 5, linkId: 22 },
    ]);
  });
});
