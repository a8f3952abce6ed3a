import { render } from 'preact';
import { Messenger, type VerifiedUser } from './messenger.ts';
import { App } from './ui.tsx';

/**
 * widget.js: `<script async src="PUBLIC_URL/widget.js" data-app="…">`. Replays the calls the
 * page queued before it loaded (window.Clicktrail.q, from the optional snippet), boots,
 * and mounts the Messenger in a shadow root.
 *
 *   Clicktrail('identify', {userId, email, name, userHash})  verified identity (boots again)
 *   Clicktrail('track', 'signed_up')                          an event, for goals
 *   Clicktrail('open') / Clicktrail('close')
 *   Clicktrail('page')                                        a single-page site changed page
 *   Clicktrail('shutdown')                                    forget this browser's session (sign-out)
 */

type Command = [name: string, ...args: unknown[]];
type ClicktrailFn = ((...args: Command) => void) & { q?: IArguments[] | Command[]; loaded?: boolean };

declare global {
  interface Window {
    Clicktrail?: ClicktrailFn;
  }
}

function serverOf(script: HTMLScriptElement | null): string {
  const src = script?.src ?? document.querySelector<HTMLScriptElement>('script[src*="/widget.js"]')?.src ?? location.href;
  return src.replace(/\/widget\.js(\?.*)?$/, '');
}

function mount(m: Messenger): void {
  const host = document.createElement('div');
  host.id = 'clicktrail-messenger';
  document.body.appendChild(host);
  render(<App m={m} />, host.attachShadow({ mode: 'open' }));
}

async function start(script: HTMLScriptElement | null): Promise<void> {
  const queued = [...(window.Clicktrail?.q ?? [])].map((args) => [...args] as Command);
  const m = new Messenger(serverOf(script));
  const booted = (async () => {
    const identify = queued.findLast(([name]) => name === 'identify');
    await m.boot(identify?.[1] as VerifiedUser | undefined);
  })();

  const run = async ([name, arg]: Command) => {
    await booted.catch(() => {});
    switch (name) {
      case 'identify':
      case 'boot':
        return m.boot(arg as VerifiedUser | undefined);
      case 'track':
        return m.track(String(arg));
      case 'open':
      case 'close':
        return m.setOpen(name === 'open');
      case 'page':
        return m.page();
      case 'shutdown':
        return m.shutdown();
      default:
        console.error(`[clicktrail] unknown command "${name}"`);
    }
  };
  const api: ClicktrailFn = (...args: Command) => void run(args);
  api.loaded = true;
  window.Clicktrail = api;
  for (const command of queued) if (command[0] !== 'identify') void run(command);

  if (document.body) mount(m);
  else addEventListener('DOMContentLoaded', () => mount(m), { once: true });
  await booted.catch((err) => console.error('[clicktrail] the messenger could not start:', err));
}

if (!window.Clicktrail?.loaded) void start(document.currentScript as HTMLScriptElement | null);
