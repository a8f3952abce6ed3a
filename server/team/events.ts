import { Hono } from 'hono';
import { PersonEventBody } from '../../api/schemas.ts';
import type { EventRecorded } from '../../api/types.ts';
import type { AppContext } from '../context.ts';
import { jsonBody } from '../http/json-body.ts';

/** POST /api/events {email, name}: something a person did, told by the customer's backend (goal tracking). */
export function eventRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  const { store } = ctx.messenger;
  app.post('/', async (c) => {
    const { email, name } = await jsonBody(c, PersonEventBody);
    const person = await store.upsertPerson(email, null);
    const { goalsCompleted } = await store.recordPersonEvent({ personId: person.id, name, source: 'api', at: Date.now() });
    return c.json({ recorded: true, goalsCompleted } satisfies EventRecorded, 202);
  });
  return app;
}
