import { h, render } from 'preact';
import type { LinkHeat } from './link-heat.ts';
import type { MatchedAnchor } from './match-links.ts';
import type { MessageTotals } from '../ui/numbers.ts';
import { OverlayLayer, type PaintedLink } from './ui/overlay-layer.tsx';
import { OVERLAY_CSS } from './ui/overlay-styles.ts';

export interface OverlayController {
  /** Milliseconds from having the stats to a laid-out overlay. */
  paintMs: number;
  host: HTMLElement;
  setVisible(visible: boolean): void;
  destroy(): void;
}

export interface OverlayInput {
  doc: Document;
  anchors: readonly HTMLAnchorElement[];
  matches: readonly MatchedAnchor[];
  /** Keyed by `${messageId}:${linkId}`. */
  heats: ReadonlyMap<string, LinkHeat>;
  subjects: string[];
  /** The messages' own totals (messageTotals): the legend shows these, the same figures as the popup and the message view. */
  totals: MessageTotals;
  /** When the stats arrived (performance.now()), if matching them came before this call. */
  startedAt?: number;
}

export const heatKey = (messageId: number, linkId: number) => `${messageId}:${linkId}`;

/**
 * Paints the heat of every matched anchor from a shadow-DOM layer above the page. The
 * page's own elements are only measured and listened to, never changed, so the mail
 * client keeps working underneath and the toggle can take it all away.
 */
export function mountOverlay({ doc, anchors, matches, heats, subjects, totals, startedAt }: OverlayInput): OverlayController {
  const started = startedAt ?? performance.now();
  const win = doc.defaultView!;
  const host = doc.createElement('div');
  host.setAttribute('data-clicktrail-overlay', '');
  host.style.cssText = 'all:initial;position:fixed;inset:0;pointer-events:none;z-index:2147483647;contain:strict';
  const shadow = host.attachShadow({ mode: 'open' });
  const style = doc.createElement('style');
  style.textContent = OVERLAY_CSS;
  const root = doc.createElement('div');
  shadow.append(style, root);

  const painted = matches.flatMap((m) => {
    const heat = heats.get(heatKey(m.messageId, m.linkId));
    const anchor = anchors[m.anchor];
    return heat && anchor ? [{ anchor, heat }] : [];
  });

  let hovered: number | null = null;
  let visible = true;
  let frame = 0;

  const draw = () => {
    // All reads, then one write: measuring between writes would lay the page out once per link.
    const links: PaintedLink[] = painted.map(({ anchor, heat }) => ({
      rect: anchor.getBoundingClientRect(),
      // Hidden links (display:none, zero size) have no line to paint.
      lines: [...anchor.getClientRects()].filter((r) => r.width > 0 && r.height > 0),
      heat,
    }));
    render(
      h(OverlayLayer, {
        links,
        hovered,
        visible,
        subjects,
        totals,
        viewport: { width: win.innerWidth, height: win.innerHeight },
        onToggle: () => controller.setVisible(!visible),
        onClose: () => controller.destroy(),
      }),
      root,
    );
  };
  const redraw = () => {
    if (!frame) frame = win.requestAnimationFrame(() => ((frame = 0), draw()));
  };

  const listeners: [EventTarget, string, EventListener, boolean][] = [];
  const listen = (target: EventTarget, type: string, fn: EventListener, capture = false) => {
    target.addEventListener(type, fn, { capture, passive: true });
    listeners.push([target, type, fn, capture]);
  };
  painted.forEach(({ anchor }, i) => {
    const enter = () => ((hovered = i), draw());
    const leave = () => (hovered === i ? ((hovered = null), draw()) : undefined);
    listen(anchor, 'mouseenter', enter);
    listen(anchor, 'focus', enter);
    listen(anchor, 'mouseleave', leave);
    listen(anchor, 'blur', leave);
  });
  // Capture catches scrolling inside the mail client's own scrolling panes too.
  listen(doc, 'scroll', redraw, true);
  listen(win, 'resize', redraw);

  draw();
  // Appended after the first draw: measuring the links with the layer already in would lay the page out twice.
  (doc.body ?? doc.documentElement).append(host);
  void root.offsetHeight; // include the layout the overlay costs in the figure
  const controller: OverlayController = {
    paintMs: performance.now() - started,
    host,
    setVisible(v) {
      visible = v;
      draw();
    },
    destroy() {
      for (const [target, type, fn, capture] of listeners) target.removeEventListener(type, fn, capture);
      if (frame) win.cancelAnimationFrame(frame);
      render(null, root);
      host.remove();
    },
  };
  host.dataset.paintMs = controller.paintMs.toFixed(2);
  host.dataset.links = String(painted.length);
  return controller;
}
