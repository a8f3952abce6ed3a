/**
 * Injected into the current tab on demand (scripting.executeScript). Finds the tracked
 * links on the page, asks the service worker (which holds the token) what they are and
 * how they did, and paints them. Running it again on a painted page takes the paint away.
 */
import type { OverlayDataReply, RuntimeMessage } from '../runtime-messages.ts';
import { browser } from '../platform/browser.ts';
import { buildHeats } from './build-heats.ts';
import { matchResolved, trackedCandidates } from './match-links.ts';
import { mountOverlay, type OverlayController } from './mount-overlay.ts';
import { messageTotals, sumTotals } from '../ui/numbers.ts';
import { mergeTagsAsText } from '../ui/merge-tag-text.tsx';
import { loadOverlayPreferences, saveOverlayPreferences } from './overlay-preferences.ts';

declare global {
  // Lives in the extension's isolated world, invisible to the page's scripts.
  var clicktrailOverlay: OverlayController | undefined;
}

async function overlay(): Promise<void> {
  if (globalThis.clicktrailOverlay?.host.isConnected) {
    globalThis.clicktrailOverlay.destroy();
    globalThis.clicktrailOverlay = undefined;
    return;
  }
  const preferences = loadOverlayPreferences(); // read while the stats are fetched
  const anchors = [...document.querySelectorAll<HTMLAnchorElement>('a[href]')];
  const hrefs = anchors.map((a) => a.href);
  const candidates = trackedCandidates(hrefs);
  const reply: OverlayDataReply = candidates.length
    ? await browser.runtime.sendMessage({ type: 'overlay.data', hrefs: candidates } satisfies RuntimeMessage)
    : { ok: true, links: [], messages: {} };
  if (!reply.ok) {
    showProblem(reply.error);
    return;
  }
  const statsArrived = performance.now();
  // The copy on screen was sent to someone: its subject as they got it.
  const subjects = Object.entries(reply.messages).map(([id, m]) => {
    const recipientId = reply.links.find((l) => l.messageId === Number(id))?.recipientId;
    return mergeTagsAsText(m.subject, m.people.find((p) => p.recipientId === recipientId));
  });
  const matches = matchResolved(hrefs, reply.links);
  if (!matches.length) {
    showProblem('No Clicktrail links on this page.');
    return;
  }
  globalThis.clicktrailOverlay = mountOverlay({
    doc: document,
    anchors,
    matches,
    heats: buildHeats(reply.messages),
    subjects,
    totals: sumTotals(Object.values(reply.messages).map((m) => messageTotals(m.stats))),
    startedAt: statsArrived,
    preferences: await preferences,
    remember: (p) => void saveOverlayPreferences(p),
  });
}

/** A short-lived note in its own shadow root; text only. */
function showProblem(text: string): void {
  const host = document.createElement('div');
  host.setAttribute('data-clicktrail-problem', '');
  host.style.cssText = 'all:initial;position:fixed;right:16px;bottom:16px;z-index:2147483647';
  const note = document.createElement('div');
  note.style.cssText =
    'font:13px system-ui,sans-serif;background:#fff;color:#1f2328;padding:10px 14px;border-radius:8px;box-shadow:0 4px 16px rgba(0,0,0,.2)';
  note.textContent = `Clicktrail: ${text}`;
  host.attachShadow({ mode: 'open' }).append(note);
  document.documentElement.append(host);
  setTimeout(() => host.remove(), 6000);
}

void overlay();
