import { Hono } from 'hono';
import { SettingsPatch } from '../../api/schemas.ts';
import type { AppContext } from '../context.ts';
import { jsonBody } from '../http/json-body.ts';

export function settingsRoutes({ store }: AppContext): Hono {
  const app = new Hono();
  app.get('/', async (c) => c.json(await store.getSettings()));
  app.patch('/', async (c) => {
    const patch = await jsonBody(c, SettingsPatch);
    return c.json(await store.updateSettings(patch));
  });
  return app;
}
