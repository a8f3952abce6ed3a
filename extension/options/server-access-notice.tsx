import { useState } from 'preact/hooks';
import { askServerAccess } from '../settings/server-access.ts';

/** Chrome's permission for the server's origin is missing: say so, and ask again (a prompt needs the click). */
export function ServerAccessNotice({ url, onAnswer }: { url: string; onAnswer(granted: boolean): void }) {
  const [asking, setAsking] = useState(false);
  const askAgain = () => {
    const asked = askServerAccess(url);
    setAsking(true);
    void asked
      .catch(() => false)
      .then((granted) => {
        setAsking(false);
        onAnswer(granted);
      });
  };
  return (
    <div class="access" role="alert">
      <p>
        <strong>Chrome has not given Clicktrail access to {new URL(url).origin}</strong>, so it cannot read your numbers there. Chrome asks when
        you save; the prompt may have been closed or refused, or the access taken back in the extension's site settings.
      </p>
      <button type="button" class="primary ask-again" disabled={asking} onClick={askAgain}>
        {asking ? 'Waiting for Chrome…' : 'Ask again'}
      </button>
    </div>
  );
}
