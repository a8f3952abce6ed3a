import { useEffect, useState } from 'preact/hooks';
import { browser } from '../platform/browser.ts';
import { watchServerSetup, type ServerSetup } from '../settings/server-access.ts';

/** The server setup, kept current while the popup is open; null until first read. */
export function useServerSetup(): ServerSetup | null {
  const [setup, setSetup] = useState<ServerSetup | null>(null);
  useEffect(() => watchServerSetup(setSetup), []);
  return setup;
}

/** Until the server is set and reachable, the way to the options page, and why. */
export function SetupPrompt({ setup }: { setup: ServerSetup | null }) {
  if (!setup || setup.state === 'ready') return null;
  const openOptions = (e: Event) => {
    e.preventDefault();
    void browser.runtime.openOptionsPage().then(() => window.close());
  };
  return (
    <div class="setup" data-state={setup.state}>
      <p>
        {setup.state === 'unset'
          ? 'Clicktrail is not connected to your server yet.'
          : `Chrome has not let Clicktrail reach ${setup.origin}, so there are no numbers to show.`}
      </p>
      <a class="setup-link" href={browser.runtime.getURL('options/options.html')} onClick={openOptions}>
        {setup.state === 'unset' ? 'Set up the server' : 'Allow access in the options'}
      </a>
    </div>
  );
}
