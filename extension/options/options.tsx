import { useEffect, useState } from 'preact/hooks';
import { clicktrail } from '../api/client.ts';
import { statsCache } from '../cache/stats-cache.ts';
import { browser } from '../platform/browser.ts';
import { loadServerSettings, normaliseServerUrl, saveServerSettings, serverOriginPattern } from '../settings/server-settings.ts';

type Result = { ok: boolean; text: string } | null;

export function Options() {
  const [url, setUrl] = useState('');
  const [token, setToken] = useState('');
  const [result, setResult] = useState<Result>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void loadServerSettings().then((s) => {
      if (s) {
        setUrl(s.url);
        setToken(s.token);
      }
    });
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
    void browser.permissions.request({ origins: [serverOriginPattern(server)] }).then(async (granted) => {
      if (!granted) {
        setResult({ ok: false, text: `Clicktrail needs access to ${new URL(server).origin} to read your stats.` });
        return;
      }
      await saveServerSettings({ url: server, token: token.trim() });
      await statsCache.clear();
      setUrl(server);
      setResult({ ok: true, text: 'Saved.' });
    });
  };

  const test = async () => {
    setBusy(true);
    setResult(null);
    try {
      const server = normaliseServerUrl(url);
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
