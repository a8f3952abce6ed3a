import { browser } from '../platform/browser.ts';
import { loadServerSettings, serverOriginPattern, type ServerSettings } from './server-settings.ts';

/**
 * How far setting up has got: no server yet; a server Chrome has not let the extension
 * reach (its origin is an optional host permission, and the prompt was refused, dismissed,
 * or the access taken back later); or ready.
 */
export type ServerSetup =
  | { state: 'unset' }
  | { state: 'no-access'; server: ServerSettings; origin: string }
  | { state: 'ready'; server: ServerSettings };

export const hasServerAccess = (url: string) => browser.permissions.contains({ origins: [serverOriginPattern(url)] });

/** Chrome's prompt for the server's origin: only shown when called inside a click. */
export const askServerAccess = (url: string) => browser.permissions.request({ origins: [serverOriginPattern(url)] });

export async function serverSetup(): Promise<ServerSetup> {
  const server = await loadServerSettings();
  if (!server) return { state: 'unset' };
  return (await hasServerAccess(server.url)) ? { state: 'ready', server } : { state: 'no-access', server, origin: new URL(server.url).origin };
}

/** Calls back with the setup now and whenever the settings or Chrome's permissions change; returns the unsubscribe. */
export function watchServerSetup(onSetup: (setup: ServerSetup) => void): () => void {
  const check = () => void serverSetup().then(onSetup);
  const onStorage = (changes: Record<string, unknown>, area: string) => area === 'local' && 'server' in changes && check();
  browser.storage.onChanged.addListener(onStorage);
  browser.permissions.onAdded.addListener(check);
  browser.permissions.onRemoved.addListener(check);
  check();
  return () => {
    browser.storage.onChanged.removeListener(onStorage);
    browser.permissions.onAdded.removeListener(check);
    browser.permissions.onRemoved.removeListener(check);
  };
}
