import { useState } from 'preact/hooks';
import type { Delivery, Message, SendResult } from '../../api/types.ts';
import { clicktrail } from '../api/client.ts';
import { ConfirmDialog } from '../ui/confirm-dialog.tsx';
import { shortDate, wholeNumber } from '../ui/format.ts';
import { plural } from '../ui/numbers.ts';
import { SKIPPED } from '../ui/reasons.ts';
import { ComposeWarnings } from './compose-warnings.tsx';

interface Props {
  message: Message;
  /** The saved draft, saving the fields first when they changed; null when they cannot be saved. */
  prepare(): Promise<Message | null>;
  /** The send request has answered (or failed): the message is to be read again. */
  onSent(): void;
}

/** How often the delivery is read while the send request runs: often enough to move, rarely enough to cost nothing. */
const POLL_MS = 500;

const recipients = (n: number) => `${wholeNumber(n)} ${n === 1 ? 'recipient' : 'recipients'}`;

/** The "Send" section: confirm, progress while the server mails each recipient, then what happened to whom. */
export function SendPanel({ message, prepare, onSent }: Props) {
  const [confirming, setConfirming] = useState(false);
  const [progress, setProgress] = useState<Delivery | null>(null);
  const [result, setResult] = useState<SendResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const sent = message.status === 'sent';
  const count = message.delivery.recipients;

  async function send() {
    setConfirming(false);
    setError(null);
    const draft = await prepare();
    if (!draft) return;
    setProgress(draft.delivery);
    // The send answers once every recipient has been tried; meanwhile the message's delivery moves.
    let running = true;
    void (async () => {
      while (running) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        const now = await clicktrail.message(draft.id).catch(() => null);
        if (running && now) setProgress(now.delivery);
      }
    })();
    try {
      setResult(await clicktrail.send(draft.id));
    } catch (err) {
      setError(`${(err as Error).message}. The server may still be sending: reopen this message to see where it stands.`);
    } finally {
      running = false;
      setProgress(null);
      onSent();
    }
  }

  return (
    <section class="send" aria-labelledby="send-title">
      <h2 id="send-title">Send</h2>
      {progress ? (
        <SendProgress delivery={progress} />
      ) : result ? (
        <SendOutcome result={result} />
      ) : sent ? (
        <p class="delivered">
          Sent {shortDate(message.sentAt)}: {wholeNumber(message.delivery.sent)} sent, {wholeNumber(message.delivery.failed)} failed,{' '}
          {wholeNumber(message.delivery.skipped)} skipped
          {message.delivery.pending ? `, ${wholeNumber(message.delivery.pending)} not sent yet` : ''}.
        </p>
      ) : (
        <>
          <button type="button" class="primary send" disabled={count === 0} onClick={() => setConfirming(true)}>
            Send to {recipients(count)}…
          </button>
          {count === 0 && <p class="hint">Add recipients first.</p>}
        </>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <ConfirmDialog open={confirming} title="Send this message?" confirmLabel={`Send to ${recipients(count)}`} onConfirm={send} onCancel={() => setConfirming(false)}>
        <p>
          “{message.subject}” goes to {recipients(count)}
          {message.kind === 'marketing' ? ', less any who have unsubscribed' : ''}.
        </p>
        <p>Once sending starts, the message can no longer be edited or deleted.</p>
      </ConfirmDialog>
    </section>
  );
}

function SendProgress({ delivery: d }: { delivery: Delivery }) {
  const done = d.sent + d.failed + d.skipped;
  return (
    <div class="progress" role="status">
      <progress max={d.recipients} value={done} aria-label="Sending" />
      <p>
        <b>
          {wholeNumber(d.sent)} of {wholeNumber(d.recipients)} sent
        </b>
        {d.failed ? ` · ${wholeNumber(d.failed)} failed` : ''}
        {d.skipped ? ` · ${wholeNumber(d.skipped)} skipped` : ''}
      </p>
    </div>
  );
}

function SendOutcome({ result: r }: { result: SendResult }) {
  const tried = r.sent + r.failed + r.skipped;
  return (
    <div class="outcome" role="status">
      <p>
        <b>
          Sent to {wholeNumber(r.sent)} of {recipients(tried)}.
        </b>
        {r.failed ? ` ${wholeNumber(r.failed)} failed.` : ''}
        {r.skipped ? ` ${wholeNumber(r.skipped)} skipped.` : ''}
      </p>
      {r.failures.length > 0 && (
        <details class="failures" open>
          <summary>{plural(r.failed, 'failure')}, and why</summary>
          <ul>
            {r.failures.map((f) => (
              <li key={f.email}>
                {f.email}: <span class="error">{f.error}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
      {r.skips.length > 0 && (
        <details class="skips" open>
          <summary>{plural(r.skipped, 'recipient')} skipped, and why</summary>
          <ul>
            {r.skips.map((s) => (
              <li key={s.email}>
                {s.email}: <span class="muted">{SKIPPED[s.reason] ?? s.reason}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
      <ComposeWarnings warnings={r.warnings} title="Missing values" />
    </div>
  );
}
