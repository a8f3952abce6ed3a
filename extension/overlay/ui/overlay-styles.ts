/** The overlay's own CSS, inside its shadow root: the host page's styles can't reach in, ours can't leak out. */
export const OVERLAY_CSS = `
:host { all: initial; }
* { box-sizing: border-box; }
.layer { font: 12px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; }
.box { position: fixed; border-radius: 3px; pointer-events: none; outline: 2px solid var(--heat);
  background: color-mix(in srgb, var(--heat) 35%, transparent); contain: layout style; }
.badge { position: absolute; right: -12px; top: -11px; min-width: 20px; height: 18px; padding: 0 5px; border-radius: 9px;
  font-weight: 700; font-size: 11px; line-height: 18px; text-align: center; color: #fff; background: #1f2328;
  box-shadow: 0 1px 3px rgba(0,0,0,.35); border: 2px solid var(--heat); }
.badge.cold { color: #1f2328; background: #fff; }
.card { position: fixed; width: 280px; padding: 10px 12px; background: #fff; border-radius: 8px; pointer-events: none;
  box-shadow: 0 6px 24px rgba(0,0,0,.22), 0 0 0 1px rgba(0,0,0,.08); }
.card h3 { margin: 0 0 2px; font-size: 13px; font-weight: 650; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.card .url { color: #59636e; font-size: 11px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; margin-bottom: 6px; }
.card .numbers { display: flex; gap: 10px; margin-bottom: 6px; }
.card .numbers b { font-size: 15px; }
.card ul { list-style: none; margin: 0; padding: 0; max-height: 180px; overflow: hidden; }
.card li { display: flex; justify-content: space-between; gap: 8px; padding: 3px 0; border-top: 1px solid #eef0f2; }
.card li .who { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-weight: 550; }
.card li .when { color: #59636e; white-space: nowrap; }
.card .none { color: #59636e; padding: 3px 0; }
.card .bots { margin-top: 6px; color: #8c4a00; font-size: 11px; }
.legend { position: fixed; right: 16px; bottom: 16px; width: 260px; padding: 10px 12px; border-radius: 10px;
  background: rgba(255,255,255,.97); box-shadow: 0 6px 24px rgba(0,0,0,.2), 0 0 0 1px rgba(0,0,0,.08); pointer-events: auto; }
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
