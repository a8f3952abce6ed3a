import { useEffect, useState } from 'preact/hooks';
import { TestSendBody } from '../../api/schemas.ts';
import type { Message } from '../../api/types.ts';
import { clicktrail } from '../api/client.ts';
import { loadTestAddress, saveTestAddress } from '../settings/test-address.ts';

interface Props {
  /** The recipient whose values fill the test (the one previewed); null: none yet. */
  as: string | null;
  /** The saved draft, saving the fields first when they changed; null when they cannot be saved. */
  prepare(): Promise<Message | null>;
}

/** The "Send a test" section: one mail to the marketer's own address, subject `[Test] …`, whose clicks never count. */
export function TestSend({ as, prepare }: Props) {
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => void loadTestAddress().then(setTo), []);

  const send = async (e: Event) => {
    e.preventDefault();
    const address = to.trim();
    if (!TestSendBody.shape.email.safeParse(address).success) {
      setResult({ ok: false, text: 'Enter your own email address, e.g. you@shop.example.' });
      return;
    }
    setBusy(true);
    setResult(null);
    try {
      const message = await prepare();
      if (!message) return;
      await saveTestAddress(address);
      const sent = await clicktrail.testSend(message.id, { email: address, ...(as ? { as } : {}) });
      setResult({
        ok: true,
        text: `Sent “${sent.subject}” to ${sent.to}${sent.as ? `, filled in as ${sent.as}` : ', with no recipient’s values'}. Its links work; its clicks are never counted.`,
      });
    } catch (err) {
      setResult({ ok: false, text: `Test not sent: ${(err as Error).message}` });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="test-send" aria-labelledby="test-send-title">
      <h2 id="test-send-title">Send a test</h2>
      <form class="inline" onSubmit={send}>
        <label for="test-address">To your address</label>
        <input id="test-address" name="test-address" type="email" autocomplete="email" placeholder="you@shop.example" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        <button type="submit" class="send-test" disabled={busy}>
          {busy ? 'Sending…' : 'Send test'}
        </button>
      </form>
      <p class={`result ${result ? (result.ok ? 'ok' : 'error') : ''}`} role="status">
        {result?.text}
      </p>
    </section>
  );
}
