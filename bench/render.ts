import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileMessage } from '../server/rewrite/compile.ts';
import { renderHtml } from '../server/rewrite/render.ts';
import type { MergeValues, RenderHooks } from '../server/rewrite/template.ts';
import { clickToken, Keyring, openToken } from '../server/tokens/tokens.ts';

const keys = new Keyring(['bench-secret']);

const RECIPIENTS = 10_000;
const TEMPLATE_NAME = 'newsletter-inlined.html';
// One of the test fixtures (test/fixtures/emails, FIXTURES in test/support/server.ts), read
// directly: the benchmark does not load the test harness.
const TEMPLATE = join(import.meta.dirname, '../test/fixtures/emails', TEMPLATE_NAME);
export async function run(): Promise<void> {
  const html = readFileSync(TEMPLATE, 'utf8');
  const msg = compileMessage(html, null, { clickTracking: true, universalLinkDomains: [] });
  const people: MergeValues[] = Array.from({ length: RECIPIENTS }, (_, i) => ({
    email: `person${i}@example.com`,
    name: `Person${i} Tester${i % 97}`,
    attributes: { plan: i % 2 ? 'pro' : 'free' },
  }));

  const renderAll = (): number => {
    let bytes = 0;
    for (let r = 0; r < people.length; r++) {
      const hooks: RenderHooks = {
        // Real signed tokens, as a send makes them: signing is part of a personalised render.
        trackedHref: (i) => `https://links.example.com/c/${clickToken.sign(keys, 100_000 + r, 5_000 + i)}`,
        footerHtml: `<img src="https://links.example.com/o/${openToken.sign(keys, 100_000 + r)}" width="1" height="1" alt="">`,
      };
      // byteLength walks the whole result, so lazily concatenated strings are really built.
      bytes += Buffer.byteLength(renderHtml(msg, people[r]!, hooks));
    }
    return bytes;
  };
  const copyAll = (): number => {
    let bytes = 0;
    for (let r = 0; r < people.length; r++) bytes += Buffer.byteLength(Buffer.from(html).toString());
    return bytes;
  };

  renderAll(); // warm-up: let the JIT settle before timing
  copyAll();
  const t0 = performance.now();
  const renderedBytes = renderAll();
  const t1 = performance.now();
  copyAll();
  const t2 = performance.now();

  const renderMs = t1 - t0;
  const copyMs = t2 - t1;
  console.log(`template: ${TEMPLATE_NAME}, ${html.length} chars, ${msg.links.filter((l) => l.tracked).length} tracked links, ${msg.html.length} segments`);
  console.log(`render:  ${RECIPIENTS} recipients in ${renderMs.toFixed(1)} ms = ${Math.round(RECIPIENTS / (renderMs / 1000))} renders/s (${(renderedBytes / 1e6).toFixed(1)} MB)`);
  console.log(`floor:   ${RECIPIENTS} string copies in ${copyMs.toFixed(1)} ms = ${Math.round(RECIPIENTS / (copyMs / 1000))} copies/s`);
  console.log(`ratio:   render / copy = ${(renderMs / copyMs).toFixed(2)}x`);
}
