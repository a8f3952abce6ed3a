/**
 * Inside the shadow root. The host page's CSS can't reach in, but it can still set the
 * host element's inherited properties and the root font size: so the host is reset with
 * !important (which beats page styles from inside a shadow root) and sizes are in px, never rem.
 */
export const css = `
:host { all: initial !important; position: fixed !important; z-index: 2147483000 !important; right: 0 !important; bottom: 0 !important; display: block !important; width: 0 !important; height: 0 !important; }
* { box-sizing: border-box; }
.root { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Color Emoji", sans-serif; color: #1f2330; -webkit-font-smoothing: antialiased; }
button, textarea, input { font: inherit; color: inherit; }
button { cursor: pointer; }
:focus-visible { outline: 3px solid #9aa4ff; outline-offset: 2px; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.launcher { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border: 0; border-radius: 50%; background: #4338ca; color: #fff; box-shadow: 0 6px 20px rgba(30, 27, 75, .35); display: grid; place-items: center; padding: 0; }
.launcher:hover { background: #3730a3; }
.launcher svg { width: 26px; height: 26px; fill: currentColor; }
.unread { position: absolute; top: -4px; right: -4px; min-width: 22px; height: 22px; padding: 0 6px; border-radius: 11px; background: #e11d48; color: #fff; font-size: 12px; font-weight: 700; line-height: 22px; text-align: center; border: 2px solid #fff; box-shadow: 0 1px 3px rgba(0, 0, 0, .3); }
.panel { position: fixed; right: 20px; bottom: 88px; width: 370px; height: min(600px, calc(100vh - 112px)); height: min(600px, calc(100dvh - 112px)); display: flex; flex-direction: column; background: #fff; border-radius: 16px; overflow: hidden; box-shadow: 0 12px 48px rgba(15, 23, 42, .28); }
@media (max-width: 480px) {
  /* dvh: the height left by the browser's own bars (iOS Safari's shrink and grow); vh where dvh is unknown. */
  .panel { right: 8px; left: 8px; bottom: 80px; width: auto; height: calc(100vh - 96px); height: calc(100dvh - 96px); }
  .launcher { right: 12px; bottom: 12px; }
}
.head { position: relative; padding: 20px 52px 18px 20px; background: linear-gradient(135deg, #4338ca, #6d28d9); color: #fff; }
.head h2 { margin: 0 0 4px; font-size: 22px; line-height: 1.25; font-weight: 700; }
.head p { margin: 0; font-size: 14px; opacity: .9; }
.close { position: absolute; top: 12px; right: 12px; width: 32px; height: 32px; border: 0; border-radius: 8px; background: transparent; color: #fff; font-size: 22px; line-height: 1; }
.close:hover { background: rgba(255, 255, 255, .15); }
.bar { display: flex; justify-content: space-between; gap: 8px; padding: 8px 12px; border-bottom: 1px solid #eceef3; background: #fafbff; }
.link { border: 0; background: none; color: #4338ca; padding: 4px 6px; border-radius: 6px; font-weight: 600; font-size: 13px; }
.link:hover { background: #eef0ff; }
.thread { flex: 1; overflow-y: auto; margin: 0; padding: 16px 14px 8px; background: #f7f8fb; }
.thread.is-empty { display: flex; }
/* A full run of messages is never laid out again, nor drawn while scrolled away: a new message costs the same in a long thread. */
.run { content-visibility: auto; contain-intrinsic-size: auto 3000px; }
.empty { margin: auto; color: #6b7080; text-align: center; padding: 0 24px; }
.msg { width: fit-content; max-width: 82%; margin: 0 0 8px; padding: 9px 13px; border-radius: 16px; white-space: pre-wrap; overflow-wrap: anywhere; }
.msg.team { margin-right: auto; background: #fff; border: 1px solid #e6e8f0; border-bottom-left-radius: 4px; }
.msg.visitor { margin-left: auto; background: #4338ca; color: #fff; border-bottom-right-radius: 4px; }
.msg.sending { opacity: .7; }
.msg.failed { background: #fde8e8; color: #8a1c1c; }
.meta { display: block; margin-top: 2px; font-size: 11px; opacity: .75; }
.list { flex: 1; overflow-y: auto; margin: 0; padding: 8px; list-style: none; }
.list button { width: 100%; text-align: left; border: 0; background: #fff; padding: 10px 12px; border-radius: 10px; display: block; }
.list button:hover { background: #f1f2f8; }
.list small { display: block; color: #6b7080; }
.composer { display: flex; gap: 8px; align-items: flex-end; padding: 10px 12px; border-top: 1px solid #eceef3; background: #fff; }
.composer textarea { flex: 1; resize: none; border: 1px solid #d6d9e4; border-radius: 12px; padding: 8px 12px; min-height: 40px; max-height: 120px; background: #fff; line-height: 1.4;
  /* 16px: below it, iOS Safari zooms the page in when the field gets focus. */
  font-size: 16px; }
.composer textarea:focus { border-color: #6366f1; outline: none; box-shadow: 0 0 0 3px rgba(99, 102, 241, .25); }
.send { flex: none; width: 40px; height: 40px; border: 0; border-radius: 50%; background: #4338ca; color: #fff; display: grid; place-items: center; padding: 0; }
.send:disabled { background: #c7c9d9; cursor: default; }
.send svg { width: 18px; height: 18px; fill: currentColor; }
/* In-app cards: above the launcher, their author HTML kept inside (the server strips styles, classes and ids). */
.cards { position: fixed; right: 20px; bottom: 88px; width: 330px; display: flex; flex-direction: column; gap: 10px; }
.card { position: relative; max-height: min(440px, calc(100vh - 120px)); overflow: auto; padding: 16px 44px 16px 18px; background: #fff; border: 1px solid #e6e8f0; border-radius: 14px; box-shadow: 0 10px 36px rgba(15, 23, 42, .22); overflow-wrap: anywhere; }
.card-body > :first-child { margin-top: 0; }
.card-body > :last-child { margin-bottom: 0; }
.card-body h1, .card-body h2, .card-body h3, .card-body h4 { margin: 0 0 6px; font-size: 16px; line-height: 1.3; }
.card-body p, .card-body ul, .card-body ol { margin: 0 0 8px; }
.card-body a { color: #4338ca; font-weight: 600; }
.card-body img { display: block; max-width: 100%; height: auto; border-radius: 8px; }
.dismiss { position: absolute; top: 8px; right: 8px; width: 30px; height: 30px; border: 0; border-radius: 8px; background: transparent; color: #6b7080; font-size: 22px; line-height: 1; padding: 0; }
.dismiss:hover { background: #f1f2f8; color: #1f2330; }
@media (max-width: 480px) { .cards { right: 12px; left: 12px; bottom: 80px; width: auto; } }
/* The address for replies, offered under a message left unanswered (16px input: iOS zooms in below it). */
.ask-email { margin: 2px 0 8px; padding: 10px 12px; background: #fff; border: 1px solid #e6e8f0; border-radius: 12px; }
.ask-email label { display: block; margin: 0 0 8px; font-size: 13px; color: #4a4f60; }
.ask-email .row { display: flex; gap: 6px; }
.ask-email input { flex: 1; min-width: 0; height: 36px; border: 1px solid #d6d9e4; border-radius: 8px; padding: 0 10px; background: #fff; font-size: 16px; }
.ask-email input:focus { border-color: #6366f1; outline: none; box-shadow: 0 0 0 3px rgba(99, 102, 241, .25); }
.ask-email input[aria-invalid] { border-color: #d92d20; }
.ask-email button { flex: none; height: 36px; border: 0; border-radius: 8px; background: #4338ca; color: #fff; padding: 0 12px; font-size: 13px; font-weight: 600; }
.ask-email button:disabled { background: #c7c9d9; cursor: default; }
.ask-email .error { margin: 6px 0 0; font-size: 12px; color: #b42318; }
.note { margin: 2px 0 8px; font-size: 12px; color: #6b7080; text-align: center; }
.status { margin: 0; padding: 6px 14px; font-size: 13px; color: #8a5a00; background: #fff8e6; border-bottom: 1px solid #f3e2b3; }
.status.unavailable { color: #8a1c1c; background: #fdecec; border-bottom-color: #f5c9c9; }
`;
