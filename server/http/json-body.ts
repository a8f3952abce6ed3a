import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { z } from 'zod';

export function badRequest(message: string): HTTPException {
  return new HTTPException(400, { message });
}

/** The request's JSON body checked against a schema; a 400 that says what is wrong otherwise. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw badRequest('body must be valid JSON');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'body';
    throw badRequest(`${where}: ${issue.message}`);
  }
  return parsed.data;
}

/** A positive integer id from a route parameter, or a 404 (an id that cannot exist names nothing). */
export function idParam(c: Context, name = 'id'): number {
  const raw = c.req.param(name) ?? '';
  const id = /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id)) throw new HTTPException(404, { message: 'not found' });
  return id;
}

export function notFound(what: string): HTTPException {
  return new HTTPException(404, { message: `${what} not found` });
}

/**
 * The `?limit=` of a list: absent → fallback; otherwise a whole number from 1 to max, or a 400
 * (a negative or fractional limit must not slip past the cap or reach the database).
 */
export function limitQuery(c: Context, fallback: number, max: number): number {
  const raw = c.req.query('limit');
  if (raw === undefined) return fallback;
  const n = /^[0-9]{1,6}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= max)) throw badRequest(`limit must be a whole number from 1 to ${max}`);
  return n;
}
