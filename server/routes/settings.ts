import { Hono } from 'hono';
import { SettingsPatch } from '../../api/schemas.ts';
import type { AppContext } from '../context.ts';
import { badRequest, jsonBody } from '../http/json-body.ts';
import { parseCidr } from '../tracking/networks/networks.ts';

export function settingsRoutes({ store }: AppContext): Hono {
  const app = new Hono();
  app.get('/', async (c) => c.json(await store.getSettings()));
  app.patch('/', async (c) => {
    const patch = await jsonBody(c, SettingsPatch);
    // The matcher's own parser decides: a range it can't read must be refused here, not at a click.
    const unreadable = patch.scannerNetworks?.findIndex((range) => parseCidr(range) === null) ?? -1;
    if (unreadable !== -1) throw badRequest(`scannerNetworks.${unreadable}: not an IP address or CIDR range`);
    return c.json(await store.updateSettings(patch));
  });
  return app;
}
