import { useEffect, useRef } from 'preact/hooks';
import type { Message } from '../../api/types.ts';
import type { LinkHeat } from '../overlay/link-heat.ts';
import { matchByPosition } from '../overlay/match-links.ts';
import { mountOverlay } from '../overlay/mount-overlay.ts';
import type { MessageTotals } from '../ui/numbers.ts';

/**
 * The message as written, in a frame that may not run scripts (the HTML is the author's,
 * but still not ours to execute). allow-same-origin only lets this page reach in to lay
 * the overlay over the links.
 */
export function MessageFrame({ message, heats, totals }: { message: Message; heats: ReadonlyMap<string, LinkHeat> | null; totals: MessageTotals | null }) {
  const frame = useRef<HTMLIFrameElement>(null);
  const loaded = useRef(false);

  useEffect(() => {
    const iframe = frame.current;
    if (!iframe || !heats || !totals) return;
    let overlay: ReturnType<typeof mountOverlay> | null = null;
    const paint = () => {
      const doc = iframe.contentDocument;
      if (!doc?.body) return;
      iframe.style.height = `${doc.documentElement.scrollHeight}px`;
      const anchors = [...doc.querySelectorAll<HTMLAnchorElement>('a[href]')];
      overlay?.destroy();
      overlay = mountOverlay({
        doc,
        anchors,
        matches: matchByPosition(anchors.length, message.id, message.links),
        heats,
        subjects: [message.subject],
        totals,
      });
    };
    if (loaded.current) paint();
    iframe.addEventListener('load', paint);
    return () => {
      iframe.removeEventListener('load', paint);
      overlay?.destroy();
    };
  }, [message, heats, totals?.bot, totals?.clicks]);

  return (
    <div class="frame">
      <iframe
        ref={frame}
        title={`The message “${message.subject}”`}
        sandbox="allow-same-origin"
        srcdoc={message.html}
        onLoad={() => (loaded.current = true)}
      />
    </div>
  );
}
