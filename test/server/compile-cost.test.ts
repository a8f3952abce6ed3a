import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'parse5';
import { describe, expect, it } from 'vitest';
import type { MessageCreated } from '../../api/types.ts';
import { compileMessage } from '../../server/rewrite/compile.ts';
import { FIXTURES, useTestServer, type TestServer } from '../support/server.ts';

let s: TestServer;
useTestServer((server) => {
  s = server;
});

/**
 * A template as large as the API takes (1,000,000 characters), made of the fixtures' bodies:
 * hundreds of Outlook conditional comments, VML buttons, image maps and other senders' tags.
 */
function largestTemplate(): string {
  const read = (f: string) => readFileSync(join(FIXTURES, f), 'utf8');
  const bodyOf = (h: string) => h.slice(h.indexOf('>', h.search(/<body/i)) + 1, h.search(/<\/body>/i));
  const parts = ['large-digest.html', 'outlook-buttons.html', 'image-map.html', 'handlebars-esp.html', 'bulletproof-button.html', 'go-template.html', 'mixed-esp-tags.html'].map((f) => bodyOf(read(f)));
  const page = read('large-digest.html');
  const room = 1_000_000 - page.length;
  let inner = '';
  for (let i = 0; ; i++) {
    const fits = parts.filter((p) => inner.length + p.length <= room);
    if (!fits.length) break;
    inner += fits[i % fits.length];
  }
  return page.replace(/<\/body>/i, `${inner}</body>`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
function time(f: () => unknown, runs = 5): number {
  f(); // warm
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    f();
    out.push(performance.now() - t);
  }
  return median(out);
}

describe('compiling the largest template', () => {
  it('costs a small multiple of one plain parse5 parse of it, and the whole create is printed', async () => {
    const html = largestTemplate();
    expect(html.length).toBeLessThanOrEqual(1_000_000);
    expect(html.length).toBeGreaterThan(990_000);
    const opts = { clickTracking: true, universalLinkDomains: [] };
    const parseMs = time(() => parse(html));
    const compileMs = time(() => compileMessage(html, null, opts, 'Hi {{first_name}}'));
    const createMs: number[] = [];
    let created: MessageCreated | null = null;
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const res = await s.api('POST', '/api/messages', { subject: 'Hi {{first_name}}', html });
      createMs.push(performance.now() - t);
      expect(res.status).toBe(201);
      created = (await res.json()) as MessageCreated;
    }
    const msg = compileMessage(html, null, opts);
    console.log(
      `1 MB template (${html.length} chars, ${(html.match(/<!--\[if/g) ?? []).length} conditional comments, ${msg.links.length} placements, ${msg.html.length} segments): ` +
        `parse5 parse ${parseMs.toFixed(1)} ms, compile ${compileMs.toFixed(1)} ms (${(compileMs / parseMs).toFixed(2)}x), ` +
        `POST /api/messages ${createMs.map((x) => x.toFixed(0)).join(', ')} ms`,
    );
    expect(created!.links).toHaveLength(msg.links.length);
    // Compiling is one parse with source locations, the conditional comments' small fragments, and joins.
    expect(compileMs / parseMs).toBeLessThan(4);
  });
});
