import { h, render } from 'preact';
import type { LinkHeat } from './link-heat.ts';
import type { MatchedAnchor } from './match-links.ts';
import type { MessageTotals } from '../ui/numbers.ts';
import { placeLegend, type LegendPlacement, type Size } from './legend-placement.ts';
import { findMailRoot, mailContent } from './mail-content.ts';
import type { OverlayPreferences } from './overlay-preferences.ts';
import { OverlayLayer, type PaintedLink } from './ui/overlay-layer.tsx';
import { Legend } from './ui/legend.tsx';
import { OVERLAY_CSS } from './ui/overlay-styles.ts';
import type { BadgeShows } from './badge-numbers.ts';

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
  /** What the badges show and whether the legend is folded, as last left. */
  preferences: OverlayPreferences;
  /** Keeps a change of them for next time. */
  remember(preferences: OverlayPreferences): void;
  /** The mail itself, when the page is nothing else (the message view's frame); otherwise found around the links. */
  mailRoot?: Element;
  /** Where the legend goes when the page has room for it beside the mail (the message view); otherwise it takes a corner over the mail. */
  legendIn?: HTMLElement;
}

export const heatKey = (messageId: number, linkId: number) => `${messageId}:${linkId}`;

/** An element's own shadow root with the overlay's CSS: the page's styles can't reach in, ours can't leak out. */
function shadowRoot(host: HTMLElement): HTMLElement {
  const doc = host.ownerDocument;
  const shadow = host.attachShadow({ mode: 'open' });
  const style = doc.createElement('style');
  style.textContent = OVERLAY_CSS;
  const root = doc.createElement('div');
  shadow.append(style, root);
  return root;
}

/**
 * Paints the heat of every matched anchor from a shadow-DOM layer above the page. The
 * page's own elements are only measured and listened to, never changed, so the mail
 * client keeps working underneath and the toggle can take it all away.
 */
export function mountOverlay(input: OverlayInput): OverlayController {
  const { doc, anchors, matches, heats, subjects, totals, startedAt, preferences, remember, mailRoot, legendIn } = input;
  const started = startedAt ?? performance.now();
  const win = doc.defaultView!;
  const host = doc.createElement('div');
  host.setAttribute('data-clicktrail-overlay', '');
  host.style.cssText = 'all:initial;position:fixed;inset:0;pointer-events:none;z-index:2147483647;contain:strict';
  const root = shadowRoot(host);
  const dock = legendIn && legendIn.ownerDocument.createElement('div');
  dock?.setAttribute('data-clicktrail-legend', '');
  const dockRoot = dock && shadowRoot(dock);
  dockRoot?.classList.add('layer');

  const painted = matches.flatMap((m) => {
    const heat = heats.get(heatKey(m.messageId, m.linkId));
    const anchor = anchors[m.anchor];
    return heat && anchor ? [{ anchor, heat }] : [];
  });

  const mail = mailRoot ?? findMailRoot(doc, painted.map((p) => p.anchor));
  let hovered: number | null = null;
  let visible = true;
  let frame = 0;
  let prefs = preferences;
  let legend: LegendPlacement | null = null;
  // Unfolded by hand where it had no room: it stays open until folded again.
  let insist = false;
  // Measured once shown; until then, about what the legend takes.
  const legendSize: Record<'expanded' | 'collapsed', Size> = { expanded: { width: 260, height: 200 }, collapsed: { width: 150, height: 30 } };

  const change = (next: Partial<OverlayPreferences>) => {
    if (next.legendCollapsed !== undefined) insist = !next.legendCollapsed && !!legend?.crowded;
    prefs = { ...prefs, ...next };
    remember(prefs);
    draw();
  };

  const draw = () => {
    // All reads, then one write: measuring between writes would lay the page out once per link.
    const links: PaintedLink[] = painted.map(({ anchor, heat }) => ({
      rect: anchor.getBoundingClientRect(),
      // Hidden links (display:none, zero size) have no line to paint.
      lines: [...anchor.getClientRects()].filter((r) => r.width > 0 && r.height > 0),
      heat,
    }));
    const viewport = { width: win.innerWidth, height: win.innerHeight };
    legend = dockRoot
      ? null
      : placeLegend({
          viewport,
          expandedSize: legendSize.expanded,
          collapsedSize: legendSize.collapsed,
          wantExpanded: !prefs.legendCollapsed,
          insist,
          current: legend?.corner ?? null,
          content: mailContent(mail, viewport),
        });
    const legendProps = {
      visible,
      subjects,
      totals,
      badge: prefs.badge,
      onBadge: (badge: BadgeShows) => change({ badge }),
      onFold: (legendCollapsed: boolean) => change({ legendCollapsed }),
      onToggle: () => controller.setVisible(!visible),
      onClose: () => controller.destroy(),
    };
    render(h(OverlayLayer, { ...legendProps, links, hovered, viewport, placement: legend }), root);
    if (dockRoot) render(h(Legend, { ...legendProps, placement: { corner: 'docked', expanded: !prefs.legendCollapsed, crowded: false } }), dockRoot);
    // The legend's real size, for placing it next time; a changed one is placed again at once.
    const shown = root.querySelector<HTMLElement>('.legend');
    if (legend && shown?.isConnected && shown.offsetWidth) {
      const size = legendSize[legend.expanded ? 'expanded' : 'collapsed'];
      if (Math.abs(size.width - shown.offsetWidth) > 1 || Math.abs(size.height - shown.offsetHeight) > 1) {
        legendSize[legend.expanded ? 'expanded' : 'collapsed'] = { width: shown.offsetWidth, height: shown.offsetHeight };
        redraw();
      }
    }
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
  if (dock) legendIn!.append(dock);
  void root.offsetHeight; // include the layout the overlay costs in the figure
  redraw(); // now that the legend can be measured
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
      if (dockRoot) render(null, dockRoot);
      dock?.remove();
    },
  };
  host.dataset.paintMs = controller.paintMs.toFixed(2);
  host.dataset.links = String(painted.length);
  return controller;
}
