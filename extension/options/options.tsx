import { useEffect, useState } from 'preact/hooks';
import { clicktrail } from '../api/client.ts';
import { statsCache } from '../cache/stats-cache.ts';
import { loadServerSettings, normaliseServerUrl, saveServerSettings } from '../settings/server-settings.ts';
import { askServerAccess, hasServerAccess, watchServerSetup } from '../settings/server-access.ts';
import { ServerAccessNotice } from './server-access-notice.tsx';

type Result = { ok: boolean; text: string } | null;

export function Options() {
  const [url, setUrl] = useState('');
  const [token, setToken] = useState('');
  const [result, setResult] = useState<Result>(null);
  const [busy, setBusy] = useState(false);
  /** A server URL Chrome has not let the extension reach: the saved one, or the one just tried. */
  const [noAccess, setNoAccess] = useState<string | null>(null);
  /** Chrome's prompt from Save is up: it is the question, no notice needed beside it. */
  const [prompting, setPrompting] = useState(false);

  useEffect(() => {
    void loadServerSettings().then((s) => {
      if (s) {
        setUrl(s.url);
        setToken(s.token);
      }
    });
    return watchServerSetup((setup) => setNoAccess(setup.state === 'no-access' ? setup.server.url : null));
  }, []);

  const save = (e: Event) => {
    e.preventDefault();
    let server: string;
    try {
      server = normaliseServerUrl(url);
    } catch (err) {
      setResult({ ok: false, text: err instanceof TypeError ? 'That is not a URL.' : (err as Error).message });
      return;
    }
    // Asked for right here, inside the click: Chrome only shows the prompt for a user gesture.
    const asked = askServerAccess(server);
    setPrompting(true);
    setResult({ ok: true, text: 'Waiting for Chrome to allow access to the server…' });
    // Saved whatever Chrome answers, so a refused prompt costs a click on "Ask again", not the typing.
    void (async () => {
      await saveServerSettings({ url: server, token: token.trim() });
      await statsCache.clear();
      setUrl(server);
      const granted = await asked.catch(() => false);
      setPrompting(false);
      setNoAccess(granted ? null : server);
      setResult(granted ? { ok: true, text: 'Saved.' } : { ok: false, text: 'Saved, but Clicktrail cannot reach the server without that access.' });
    })();
  };

  const test = async () => {
    setBusy(true);
    setResult(null);
    try {
      const server = normaliseServerUrl(url);
      // Without the permission Chrome refuses the request outright ("Failed to fetch"), which says nothing of why.
      if (!(await hasServerAccess(server))) {
        setNoAccess(server);
        setResult({ ok: false, text: 'Not tested: Chrome has not given Clicktrail access to the server yet.' });
        return;
      }
      const settings = await clicktrail.settings({ url: server, token: token.trim() });
      setResult({
        ok: true,
        text: `Connected. Click tracking ${settings.clickTracking ? 'on' : 'off'}, lead identification ${settings.leadEmailIdentification ? 'on' : 'off'}.`,
      });
    } catch (err) {
      setResult({ ok: false, text: `Could not connect: ${(err as Error).message}` });
    } finally {
      setBusy(false);
    }
  };

  return (
    <main>
      <div class="brand">
        <img src="/icons/icon-48.png" alt="" /> Clicktrail
      </div>
      <h1>Connect to your server</h1>
      <p class="muted">The token stays in this browser's extension storage; web pages never see it.</p>
      {noAccess && !prompting && (
        <ServerAccessNotice
          url={noAccess}
          onAnswer={(granted) =>
            setResult(granted ? { ok: true, text: 'Access allowed. Test the connection to be sure.' } : { ok: false, text: 'Chrome still has no access to the server.' })
          }
        />
      )}
      <form onSubmit={save}>
        <label>
          Server URL
          <input name="url" type="url" required placeholder="https://links.shop.example" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
          <small>Where Clicktrail runs (its API, usually the same address as your tracked links).</small>
        </label>
        <label>
          API token
          <input name="token" type="password" required autocomplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} />
          <small>CLICKTRAIL_ADMIN_TOKEN, printed by the server when it starts.</small>
        </label>
        <div class="buttons">
          <button class="primary" type="submit">
            Save
          </button>
          <button type="button" class="test" disabled={busy} onClick={test}>
            Test connection
          </button>
        </div>
        <p class={`result ${result ? (result.ok ? 'ok' : 'error') : ''}`} role="status">
          {result?.text}
        </p>
      </form>
    </main>
  );
}
