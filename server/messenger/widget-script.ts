import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from 'hono';

export const WIDGET_BUILD = join(import.meta.dirname, '../../dist/widget/widget.js');

let cached: { mtimeMs: number; body: string; etag: string } | null = null;

/** The built file, reread when a rebuild changes it. */
async function load(path: string) {
  const { mtimeMs } = await stat(path);
  if (cached?.mtimeMs !== mtimeMs) {
    const body = await readFile(path, 'utf8');
    cached = { mtimeMs, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
  }
  return cached;
}

/**
 * GET /widget.js: loaded by <script> on the customer's pages, so it must be allowed
 * cross-origin (CORP cross-origin, CORS *: it holds no secrets). Short max-age plus an
 * ETag: a new release reaches every page within minutes, and revalidation costs a 304.
 */
export async function serveWidget(c: Context, path = WIDGET_BUILD): Promise<Response> {
  let file;
  try {
    file = await load(path);
  } catch {
    return c.text('The widget is not built: run `npm run build`.\n', 503);
  }
  c.header('ETag', file.etag);
  c.header('Cache-Control', 'public, max-age=300');
  c.header('Access-Control-Allow-Origin', '*');
  c.header('Cross-Origin-Resource-Policy', 'cross-origin');
  c.header('X-Content-Type-Options', 'nosniff');
  if (c.req.header('if-none-match')?.split(/\s*,\s*/).includes(file.etag)) return c.body(null, 304);
  c.header('Content-Type', 'text/javascript; charset=utf-8');
  return c.body(file.body);
}
