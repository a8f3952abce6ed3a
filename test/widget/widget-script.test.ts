import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, testServer, type TestServer } from '../support/server.ts';
import { ensureWidgetBuilt } from './built-widget.ts';

const BUDGET_GZIP_BYTES = 20 * 1024;

let s: TestServer;
let built: string;
beforeAll(async () => {
  built = await ensureWidgetBuilt();
  s = testServer();
});
afterAll(async () => {
  s.ctx.messenger.close();
  await s.close();
  removeDir(s.dir);
});

describe('widget.js', () => {
  it(`is one file of at most ${BUDGET_GZIP_BYTES / 1024} KB gzipped`, () => {
    const size = gzipSync(readFileSync(built), { level: 9 }).length;
    console.log(`widget.js: ${readFileSync(built).length} bytes, ${size} bytes gzipped`);
    expect(size).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
    // One classic script: nothing for a module loader to fetch.
    expect(readFileSync(built, 'utf8')).not.toMatch(/\bimport\s*\(|^\s*import\s|^\s*export\s/m);
  });

  it('is served with an ETag and the headers a third-party page needs', async () => {
    const res = await s.app.request('/widget.js', { headers: { origin: 'https://www.shop.test' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(await res.text()).toBe(readFileSync(built, 'utf8'));

    const again = await s.app.request('/widget.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe('');
  });

  it('serves the demo shop with the widget embedded by its script tag and queue snippet', async () => {
    const res = await s.app.request('/demo');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<script async src="http://links.shop.test/widget.js" data-app="demo"></script>');
    expect(html).toContain('window.Clicktrail.q');
  });
});
