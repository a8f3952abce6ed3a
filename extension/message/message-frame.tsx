import { useEffect, useRef } from 'preact/hooks';
import type { Message } from '../../api/types.ts';
import type { LinkHeat } from '../overlay/link-heat.ts';
import { matchByPosition } from '../overlay/match-links.ts';
import { mountOverlay } from '../overlay/mount-overlay.ts';
import { loadOverlayPreferences, saveOverlayPreferences } from '../overlay/overlay-preferences.ts';
import { hasMergeTags, mergeTagsAsText, type SampleRecipient } from '../ui/merge-tag-text.tsx';
import type { MessageTotals } from '../ui/numbers.ts';

const MIN_HEIGHT = 320;

/** The mail's text as the sample recipient read it; links and markup stay as written (the overlay matches links by position). */
function fillTextTags(doc: Document, sample: SampleRecipient | null): void {
  const walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const tag = node.parentElement?.tagName;
    if (tag !== 'STYLE' && tag !== 'SCRIPT' && node.nodeValue && hasMergeTags(node.nodeValue)) node.nodeValue = mergeTagsAsText(node.nodeValue, sample);
  }
}

/**
 * The message as written, in a frame that may not run scripts (the HTML is the author's,
 * but still not ours to execute). allow-same-origin only lets this page reach in to lay
 * the overlay over the links. The frame scrolls the mail itself, within the window, and
 * the legend stays in view beside it.
 */
export function MessageFrame({
  message,
  heats,
  totals,
  sample,
  legendIn,
}: {
  message: Message;
  heats: ReadonlyMap<string, LinkHeat> | null;
  totals: MessageTotals | null;
  sample: SampleRecipient | null;
  /** Beside the frame, for the legend: over a mail in a frame this narrow it would rarely find a free corner. */
  legendIn: HTMLElement | null;
}) {
  const frame = useRef<HTMLIFrameElement>(null);
  const loaded = useRef(false);

  useEffect(() => {
    const iframe = frame.current;
    if (!iframe || !heats || !totals) return;
    let overlay: ReturnType<typeof mountOverlay> | null = null;
    let live = true;
    // As tall as the mail, but no taller than the window below the frame's place on the page: all of the frame in view.
    const fitToWindow = () => {
      const mailHeight = iframe.contentDocument?.documentElement.scrollHeight ?? 0;
      // Measured on the frame's unmoving container: the frame itself is sticky.
      const top = (iframe.parentElement?.parentElement ?? iframe).getBoundingClientRect().top + window.scrollY;
      iframe.style.height = `${Math.max(MIN_HEIGHT, Math.min(mailHeight, window.innerHeight - top - 12))}px`;
    };
    window.addEventListener('resize', fitToWindow);
    const paint = async () => {
      const doc = iframe.contentDocument;
      if (!doc?.body) return;
      const preferences = await loadOverlayPreferences();
      if (!live) return;
      fillTextTags(doc, sample);
      fitToWindow();
      const anchors = [...doc.querySelectorAll<HTMLAnchorElement>('a[href]')];
      overlay?.destroy();
      overlay = mountOverlay({
        doc,
        anchors,
        matches: matchByPosition(anchors.length, message.id, message.links),
        heats,
        subjects: [mergeTagsAsText(message.subject, sample)],
        totals,
        preferences,
        remember: (p) => void saveOverlayPreferences(p),
        mailRoot: doc.body,
        ...(legendIn ? { legendIn } : {}),
      });
    };
    const onLoad = () => void paint();
    if (loaded.current) onLoad();
    iframe.addEventListener('load', onLoad);
    return () => {
      live = false;
      window.removeEventListener('resize', fitToWindow);
      iframe.removeEventListener('load', onLoad);
      overlay?.destroy();
    };
  }, [message, heats, totals?.bot, totals?.clicks, sample, legendIn]);

  return (
    <div class="frame">
      <iframe
        ref={frame}
        title={`The message “${mergeTagsAsText(message.subject, sample)}”`}
        sandbox="allow-same-origin"
        srcdoc={message.html}
        onLoad={() => (loaded.current = true)}
      />
    </div>
  );
}
