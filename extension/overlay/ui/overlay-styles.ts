/** The overlay's own CSS, inside its shadow root: the host page's styles can't reach in, ours can't leak out. */
export const OVERLAY_CSS = `
:host { all: initial; }
* { box-sizing: border-box; }
.layer { font: 12px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; }
/* Paint around the link, never on it: nothing covers the author's text or buttons, so their colours stay theirs.
   The heat outline carries a thin dark edge that shows on light mails; on dark ones the outline and band show. */
.box { position: fixed; border-radius: 5px; pointer-events: none; background: none; contain: layout style;
  border: 3px solid color-mix(in srgb, var(--heat) 45%, transparent); outline: 2px solid var(--heat);
  box-shadow: 0 0 0 3px rgba(0,0,0,.45); }
.badge { position: absolute; right: -14px; top: -14px; min-width: 20px; height: 18px; padding: 0 5px; border-radius: 9px;
  font-weight: 700; font-size: 11px; line-height: 14px; text-align: center; color: #fff; background: #1f2328; white-space: nowrap;
  box-shadow: 0 0 0 1px rgba(255,255,255,.85), 0 1px 3px rgba(0,0,0,.35); border: 2px solid var(--heat); }
.badge.cold { color: #1f2328; background: #fff; }
.placeholder { padding: 0 3px; border-radius: 3px; background: #eef1f4; color: #59636e; font-style: italic; }
.card { position: fixed; width: 280px; padding: 10px 12px; background: #fff; border-radius: 8px; pointer-events: none;
  box-shadow: 0 6px 24px rgba(0,0,0,.22), 0 0 0 1px rgba(0,0,0,.08); }
.card h3 { margin: 0 0 2px; font-size: 13px; font-weight: 650; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.card .url { color: #59636e; font-size: 11px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; margin-bottom: 6px; }
.card .numbers { display: flex; gap: 10px; margin-bottom: 6px; }
.card .numbers b { font-size: 15px; }
.card .numbers .shown { padding: 0 4px; margin: 0 -4px; border-radius: 4px; background: #fff4e5; box-shadow: inset 0 -2px 0 #e8590c; }
.card ul { list-style: none; margin: 0; padding: 0; max-height: 180px; overflow: hidden; }
.card li { display: flex; justify-content: space-between; gap: 8px; padding: 3px 0; border-top: 1px solid #eef0f2; }
.card li .who { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-weight: 550; }
.card li .when { color: #59636e; white-space: nowrap; }
.card .none { color: #59636e; padding: 3px 0; }
.card .bots { margin-top: 6px; color: #8c4a00; font-size: 11px; }
.legend { position: fixed; width: 260px; padding: 10px 12px; border-radius: 10px;
  background: rgba(255,255,255,.97); box-shadow: 0 6px 24px rgba(0,0,0,.2), 0 0 0 1px rgba(0,0,0,.08); pointer-events: auto; }
/* legend-placement.ts picks the corner; LEGEND_MARGIN there is this 12px. */
.legend.bottom-right { right: 12px; bottom: 12px; } .legend.top-right { right: 12px; top: 12px; }
.legend.bottom-left { left: 12px; bottom: 12px; } .legend.top-left { left: 12px; top: 12px; }
.legend.collapsed { width: auto; padding: 0; border-radius: 15px; }
/* Docked in the message view's side column: part of the page, not floating over the mail. */
.legend.docked { position: static; width: auto; background: #fff; box-shadow: 0 0 0 1px #e3e7eb; }
.legend.docked.collapsed { display: inline-block; }
.legend .unfold { display: flex; align-items: center; gap: 6px; height: 30px; padding: 0 12px; border: 0; border-radius: 15px;
  background: none; font-size: 12px; font-weight: 600; margin: 0; }
.legend .unfold i { width: 22px; height: 8px; border-radius: 4px; display: inline-block; }
.legend .badge-switch { display: flex; margin: 2px 0 4px; }
.legend .badge-switch button { flex: 1; margin: 0; border-radius: 0; padding: 3px 0; }
.legend .badge-switch button + button { margin-left: -1px; }
.legend .badge-switch button:first-child { border-radius: 6px 0 0 6px; }
.legend .badge-switch button:last-child { border-radius: 0 6px 6px 0; }
.legend .badge-switch button[aria-checked="true"] { background: #1f2328; border-color: #1f2328; color: #fff; font-weight: 600; }
.legend .badge-meaning { color: #1f2328; font-size: 11px; margin-bottom: 8px; }
.legend header { display: flex; align-items: center; justify-content: space-between; margin-bottom: 6px; }
.legend header strong { font-size: 13px; }
.legend .subject { color: #59636e; margin-bottom: 6px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.legend .bar { height: 10px; border-radius: 5px; }
.legend .scale { display: flex; justify-content: space-between; color: #59636e; font-size: 11px; margin-top: 2px; }
.legend .nodata { display: flex; align-items: center; gap: 6px; margin-top: 6px; color: #59636e; font-size: 11px; }
.legend .nodata i { width: 10px; height: 10px; border-radius: 2px; display: inline-block; }
.legend .totals { margin-top: 6px; font-size: 11px; color: #1f2328; }
.legend button { font: inherit; font-size: 11px; border: 1px solid #d1d9e0; background: #f6f8fa; border-radius: 6px; padding: 2px 8px; cursor: pointer; }
.legend button + button { margin-left: 4px; }
.legend .error { color: #b42318; }
`;
