import { browser } from '../platform/browser.ts';

/** Where the team's Clicktrail server is and the admin token for it. Kept in storage.local: never synced, never given to a page. */
export interface ServerSettings {
  url: string;
  token: string;
}

const KEY = 'server';

export async function loadServerSettings(): Promise<ServerSettings | null> {
  const got = await browser.storage.local.get(KEY);
  const value = got[KEY] as ServerSettings | undefined;
  return value?.url && value.token ? value : null;
}

export async function saveServerSettings(settings: ServerSettings): Promise<void> {
  await browser.storage.local.set({ [KEY]: settings });
}

/** The server URL as the API is addressed: no trailing slash. Throws on anything that is not http(s). */
export function normaliseServerUrl(input: string): string {
  const url = new URL(input.trim());
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('The server URL must start with http:// or https://');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** The host permission pattern for the server, as asked for at options time. */
export function serverOriginPattern(url: string): string {
  return `${new URL(url).origin}/*`;
}
