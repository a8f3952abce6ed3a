import overlayScript from '../overlay/content.ts?script&iife';
import { clicktrail } from '../api/client.ts';
import { browser } from '../platform/browser.ts';
import type { InjectReply, OverlayDataReply } from '../runtime-messages.ts';

/** Paints (or, when painted, removes) the overlay on a tab: activeTab covers the tab the user pressed the button on. */
export async function injectOverlay(tabId: number): Promise<InjectReply> {
  try {
    await browser.scripting.executeScript({ target: { tabId }, files: [overlayScript] });
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** What the overlay needs, fetched here because the token must not enter the page. */
export async function overlayData(hrefs: string[]): Promise<OverlayDataReply> {
  try {
    const { links } = await clicktrail.resolveLinks(hrefs);
    const messages: Extract<OverlayDataReply, { ok: true }>['messages'] = {};
    await Promise.all(
      [...new Set(links.map((l) => l.messageId))].map(async (id) => {
        const [stats, people, message] = await Promise.all([clicktrail.stats(id), clicktrail.people(id), clicktrail.message(id)]);
        messages[id] = { stats, people, subject: message.subject };
      }),
    );
    return { ok: true, links, messages };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
