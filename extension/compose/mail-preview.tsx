import { useEffect, useRef, useState } from 'preact/hooks';
import type { LinkPlacement, Message, PersonStats } from '../../api/types.ts';
import { clicktrail } from '../api/client.ts';

interface Props {
  message: Message;
  people: PersonStats[];
  /** The recipient whose copy is shown (and whose values a test send is filled with). */
  as: string;
  onAs(email: string): void;
  /** The fields have changed since the draft was saved: the preview is of the saved one. */
  stale: boolean;
}

// Drawn over the recipient's copy, never part of it: a badge with the link's number in the
// link list, a solid green outline when tracked, dashed grey when left as written.
const MARK_STYLE = `
a[data-clicktrail-mark] { position: relative; outline: 2px solid #1a7f37; outline-offset: 2px; border-radius: 2px; }
a[data-clicktrail-mark="untracked"] { outline: 2px dashed #8c959f; }
a[data-clicktrail-mark]::after {
  content: attr(data-clicktrail-number); position: absolute; top: -11px; left: -11px; z-index: 1;
  min-width: 16px; height: 16px; padding: 0 4px; box-sizing: border-box; border-radius: 8px;
  background: #1a7f37; color: #fff; font: 600 10px/16px system-ui, sans-serif; text-align: center; text-indent: 0; letter-spacing: 0;
}
a[data-clicktrail-mark="untracked"]::after { background: #59636e; }`;

/**
 * Marks each anchor of the rendered copy with its placement: the rendering changes hrefs
 * only, so the copy's anchors are the HTML part's in the same order, and what the server
 * adds (the unsubscribe line, the hidden link) comes after them and stays unmarked.
 */
function markLinks(doc: Document, links: readonly LinkPlacement[], on: boolean): void {
  const byPosition = new Map(links.filter((l) => l.part === 'html').map((l) => [l.position, l]));
  doc.querySelectorAll<HTMLAnchorElement>('a[href]').forEach((a, i) => {
    const link = on ? byPosition.get(i) : undefined;
    if (!link) {
      delete a.dataset.clicktrailMark;
      delete a.dataset.clicktrailNumber;
      return;
    }
    a.dataset.clicktrailMark = link.tracked ? 'tracked' : 'untracked';
    a.dataset.clicktrailNumber = String(link.position + 1);
  });
  if (!doc.getElementById('clicktrail-marks')) {
    const style = doc.createElement('style');
    style.id = 'clicktrail-marks';
    style.textContent = MARK_STYLE;
    doc.head.append(style);
  }
}

/** The "Preview" section: the mail exactly as the chosen recipient gets it, in a frame that runs no scripts. */
export function MailPreview({ message, people, as, onAs, stale }: Props) {
  const [html, setHtml] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [marked, setMarked] = useState(true);
  const frame = useRef<HTMLIFrameElement>(null);

  useEffect(() => {
    if (!as) return;
    let live = true;
    setError(null);
    clicktrail
      .preview(message.id, as)
      .then((h) => live && setHtml(h))
      .catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, [message, as]);

  const decorate = () => {
    const doc = frame.current?.contentDocument;
    if (!doc?.body) return;
    markLinks(doc, message.links, marked);
    frame.current!.style.height = `${Math.max(240, doc.documentElement.scrollHeight)}px`;
  };
  useEffect(decorate, [marked]);

  return (
    <section class="preview" aria-labelledby="preview-title">
      <h2 id="preview-title">Preview</h2>
      <div class="preview-bar">
        <label for="preview-as">As</label>
        <select id="preview-as" name="preview-as" value={as} onChange={(e) => onAs(e.currentTarget.value)}>
          {people.map((p) => (
            <option key={p.recipientId} value={p.email ?? ''}>
              {p.name ? `${p.name} <${p.email}>` : p.email}
            </option>
          ))}
        </select>
        <label class="check">
          <input type="checkbox" name="mark-links" checked={marked} onChange={(e) => setMarked(e.currentTarget.checked)} /> Mark links
        </label>
      </div>
      {stale && <p class="stale muted">This is the saved draft: save to see your latest changes here.</p>}
      {error && <p class="error">Could not show the preview: {error}</p>}
      {html !== null && (
        <div class="frame">
          <iframe
            ref={frame}
            title={`The mail as ${as} gets it`}
            // No scripts; same-origin only so this page can mark the links and keep clicks in.
            sandbox="allow-same-origin"
            srcdoc={html}
            onLoad={() => {
              // A click here would be a click of that recipient's, counted as theirs: links lead nowhere in the preview.
              frame.current?.contentDocument?.addEventListener('click', (e) => (e.target as Element).closest?.('a, area') && e.preventDefault(), true);
              decorate();
            }}
          />
        </div>
      )}
      <p class="hint">Links go nowhere here: a click would count as this recipient’s. Numbers match the list of links below.</p>
    </section>
  );
}
